"""The GraphQL connector: a department's GraphQL service, asked for records by key.

Services of this kind (Public Security's population base, for one) answer identity lookups for a
list of keys and deliberately offer no listing, so every query is "key in (...)". A binding may
declare filter arguments the root field also takes (``[entities.X.filters.<field>]``, e.g.
``address_code = { prefix = "addressPrefix" }``): a select may then narrow its key lookup by them.
Operations are built from the binding alone; keys and filter values travel as variables, never as
text.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import httpx

from connectors.base import Condition, Op, Page, Record, UnsupportedQuery
from connectors.binding import Binding, EntityBinding
from connectors.bound import BoundConnector
from connectors.rest import HttpSource, chunks, map_items, snippet

KEY_OPS: frozenset[Op] = frozenset({"eq", "in"})


def fetch_operation(entity: EntityBinding, filters: Sequence[str] = ()) -> str:
    """``query HubFetch($keys: <key_type>[, $<filter>: String]) { <query>(<key_argument>: $keys ...) ...}``.

    ``filters`` are argument names from the binding (checked to be GraphQL names when it loaded).
    """
    selection = " ".join(entity.fields.values())
    variables = "".join(f", ${variable(name)}: String" for name in filters)
    arguments = "".join(f", {name}: ${variable(name)}" for name in filters)
    return (
        f"query HubFetch($keys: {entity.key_type}{variables}) "
        f"{{ {entity.query}({entity.key_argument}: $keys{arguments}) {{ {selection} }} }}"
    )


def variable(argument: str) -> str:
    """The variable carrying a filter argument's value; never ``keys``, whatever the argument's name."""
    return f"f_{argument}"


class GraphQLConnector(BoundConnector):
    """A remote GraphQL service whose root field takes a list of keys and returns their records."""

    kind = "graphql"

    def __init__(
        self, binding: Binding, url: str | None = None, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        super().__init__(binding)
        self._url = url or binding.resolved_url()
        self._http = HttpSource(self.department, self.timeout, transport)
        self._operations = {name: fetch_operation(entity) for name, entity in binding.entities.items()}

    def supports(self, entity: str, field: str, op: Op) -> bool:
        """The key's ``eq``/``in``, and the filters the binding declares (alongside a key lookup)."""
        bound = self.binding.entities.get(entity)
        if bound is None:
            return False
        return (field == bound.key and op in KEY_OPS) or op in bound.filters.get(field, {})

    async def fetch(self, entity: str, field: str, keys: Sequence[Any]) -> list[Record]:
        bound = self._entity(entity)
        self._require_key(bound, field)
        unique = list(dict.fromkeys(keys))
        if not unique:
            return []
        assert bound.max_keys is not None  # the binding loader guarantees it for kind "graphql"
        batches = [self._fetch_chunk(bound, chunk) for chunk in chunks(unique, bound.max_keys)]
        return [record for batch in await asyncio.gather(*batches) for record in batch]

    async def select(self, entity: str, where: Sequence[Condition], page: Page) -> list[Record]:
        """A key lookup (one ``eq``/``in`` on the key), narrowed by declared filters, paged here."""
        bound = self._entity(entity)
        if page.limit < 1:
            raise UnsupportedQuery(self.department, "page limit must be at least 1")
        if page.order_by not in bound.fields:
            raise UnsupportedQuery(self.department, f"no field {page.order_by!r} on {entity!r} to order by")
        lookups = [c for c in where if c.field == bound.key and c.op in KEY_OPS]
        if len(lookups) != 1:
            raise UnsupportedQuery(self.department, f"{entity!r} can only be looked up by {bound.key!r}")
        filters = self._filters(bound, [c for c in where if c is not lookups[0]])
        single = lookups[0].op == "eq" or isinstance(lookups[0].value, str)
        keys = [lookups[0].value] if single else list(dict.fromkeys(lookups[0].value))
        if not keys:
            return []
        assert bound.max_keys is not None  # the binding loader guarantees it for kind "graphql"
        batches = [self._fetch_chunk(bound, chunk, filters) for chunk in chunks(keys, bound.max_keys)]
        return _page([record for batch in await asyncio.gather(*batches) for record in batch], page)

    async def aclose(self) -> None:
        await self._http.aclose()

    def _filters(self, bound: EntityBinding, where: Sequence[Condition]) -> dict[str, str]:
        """Argument -> value for each condition beside the key lookup; each must be declared."""
        values: dict[str, str] = {}
        for condition in where:
            argument = bound.filters.get(condition.field, {}).get(condition.op)
            if argument is None:
                raise UnsupportedQuery(
                    self.department, f"{bound.name!r} takes no {condition.op!r} filter on {condition.field!r}"
                )
            if argument in values or not isinstance(condition.value, str):
                raise UnsupportedQuery(self.department, f"{argument!r} takes one text value")
            values[argument] = condition.value
        return values

    def _operation(self, bound: EntityBinding, filters: dict[str, str]) -> str:
        if not filters:
            return self._operations[bound.name]
        return fetch_operation(bound, sorted(filters))

    async def _fetch_chunk(
        self, bound: EntityBinding, keys: list[Any], filters: dict[str, str] | None = None
    ) -> list[Record]:
        filters = filters or {}
        variables = {"keys": keys, **{variable(name): value for name, value in filters.items()}}
        payload = {"query": self._operation(bound, filters), "variables": variables}
        body = await self._http.request_json("POST", self._url, json=payload)
        if not isinstance(body, dict):
            raise self._http.failed("response is not a GraphQL result")
        if body.get("errors"):
            raise self._http.failed(f"GraphQL errors: {_messages(body['errors'])}")
        data = body.get("data")
        if not isinstance(data, dict) or data.get(bound.query) is None:
            raise self._http.failed(f"response has no data for {bound.query!r}")
        # A service may answer an unknown key with null in its place: that key is simply absent.
        items = data[bound.query]
        present = [item for item in items if item is not None] if isinstance(items, list) else items
        return map_items(self._http, bound, present)

    def _require_key(self, bound: EntityBinding, field: str) -> None:
        if field not in bound.fields:
            raise UnsupportedQuery(self.department, f"no field {field!r} on {bound.name!r} in the binding")
        if field != bound.key:
            raise UnsupportedQuery(self.department, f"{bound.name!r} can only be looked up by {bound.key!r}")


def _messages(errors: Any) -> str:
    if isinstance(errors, list):
        texts = [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors]
        return snippet("; ".join(texts))
    return snippet(str(errors))


def _page(records: list[Record], page: Page) -> list[Record]:
    """Keyset paging over an already fetched, bounded set; a null sorts first rather than failing."""

    def order(record: Record) -> tuple[bool, Any]:
        value = record.get(page.order_by)
        return (value is not None, value)

    ordered = sorted(records, key=order)
    if page.after is not None:
        ordered = [r for r in ordered if r.get(page.order_by) is not None and r[page.order_by] > page.after]
    return ordered[: page.limit]
