"""The GraphQL connector: a department's GraphQL service, asked for records by key only.

Services of this kind (Public Security's population base, for one) answer identity lookups for a
list of keys and deliberately offer no listing, so the only pushable query is "key in (...)". The
operation is built once per entity from the binding; keys travel as a variable, never as text.
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


def fetch_operation(entity: EntityBinding) -> str:
    """``query HubFetch($keys: <key_type>) { <query>(<key_argument>: $keys) { <fields> } }``."""
    selection = " ".join(entity.fields.values())
    return (
        f"query HubFetch($keys: {entity.key_type}) "
        f"{{ {entity.query}({entity.key_argument}: $keys) {{ {selection} }} }}"
    )


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
        bound = self.binding.entities.get(entity)
        return bound is not None and field == bound.key and op in KEY_OPS

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
        """Only a key lookup (one ``eq``/``in`` on the key) can be asked; it is a fetch, paged here."""
        bound = self._entity(entity)
        if page.limit < 1:
            raise UnsupportedQuery(self.department, "page limit must be at least 1")
        if page.order_by not in bound.fields:
            raise UnsupportedQuery(self.department, f"no field {page.order_by!r} on {entity!r} to order by")
        if len(where) != 1 or not self.supports(entity, where[0].field, where[0].op):
            raise UnsupportedQuery(self.department, f"{entity!r} can only be looked up by {bound.key!r}")
        condition = where[0]
        single = condition.op == "eq" or isinstance(condition.value, str)
        keys = [condition.value] if single else list(condition.value)
        records = await self.fetch(entity, bound.key, keys)
        return _page(records, page)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _fetch_chunk(self, bound: EntityBinding, keys: list[Any]) -> list[Record]:
        payload = {"query": self._operations[bound.name], "variables": {"keys": keys}}
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
