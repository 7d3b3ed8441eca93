"""The REST connector: a department's JSON API, asked with query parameters the binding describes.

``[params]`` in the binding says how the API takes each filter: ``{field}`` is replaced by the API's
member name and a list of values is sent comma-joined. Keyset paging uses the ``order_by``, ``after``
and ``limit`` parameters. ``HttpSource`` (one shared ``httpx.AsyncClient`` and the translation of
every HTTP failure into a provider-side ``SourceError``) is shared with the GraphQL connector.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import orjson

from connectors.base import Condition, Op, Page, Record, SourceError, UnsupportedQuery
from connectors.binding import Binding, EntityBinding
from connectors.bound import BoundConnector
from connectors.tracing import send_trace_context

SNIPPET = 200  # characters of a provider's error body worth showing; the rest is noise or worse


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The context httpx makes by default (its CA bundle, or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``),
    made once per process and shared by every department's client: loading the bundle costs each
    new client tens of milliseconds of CPU, and a hub is built with one client per HTTP department."""
    return httpx.create_ssl_context()


class HttpSource:
    """One department's HTTP endpoint: a pooled client, a hard deadline, failures as SourceError."""

    def __init__(self, department: str, timeout: float, transport: httpx.AsyncBaseTransport | None) -> None:
        self.department = department
        self.timeout = timeout
        self.client = httpx.AsyncClient(
            timeout=timeout, transport=transport, event_hooks={"request": [send_trace_context]}, verify=tls_context(),
        )

    async def request_json(self, method: str, url: str | httpx.URL, **kwargs: Any) -> Any:
        """The decoded JSON body of a 2xx answer; anything else is the provider's failure."""
        try:
            # httpx's timeout bounds each phase; the deadline bounds the whole exchange.
            async with asyncio.timeout(self.timeout):
                response = await self.client.request(method, url, **kwargs)
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise self.failed(f"timed out after {self.timeout} s") from exc
        except httpx.ConnectError as exc:
            raise self.failed(_connect_reason(exc)) from exc
        except httpx.HTTPError as exc:
            raise self.failed(f"transport error ({type(exc).__name__})") from exc
        if not response.is_success:
            body = snippet(response.text)
            raise self.failed(f"HTTP {response.status_code}" + (f": {body}" if body else ""))
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise self.failed("invalid JSON in response") from exc

    def failed(self, reason: str) -> SourceError:
        return SourceError(self.department, "provider", reason)

    async def aclose(self) -> None:
        await self.client.aclose()


def snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET else flat[: SNIPPET - 1] + "…"


def _connect_reason(exc: httpx.ConnectError) -> str:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        cause = cause.__cause__ or cause.__context__
    return "connection failed" if "refused" not in str(exc).lower() else "connection refused"


def chunks(values: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def map_items(source: HttpSource, entity: EntityBinding, items: Any) -> list[Record]:
    """Records keyed by graph names from the provider's objects (source member -> graph field)."""
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise source.failed(f"{entity.name}: expected a list of objects")
    return [{graph: item.get(name) for graph, name in entity.fields.items()} for item in items]


class RestConnector(BoundConnector):
    """A department's REST API returning ``{"<items>": [...]}`` for filtered, paged GETs."""

    kind = "rest"

    def __init__(
        self, binding: Binding, url: str | None = None, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        super().__init__(binding)
        self._url = (url or binding.resolved_url()).rstrip("/")
        self._http = HttpSource(self.department, self.timeout, transport)
        # Each entity's endpoint parsed once: httpx parses a URL given as text on every request (about a
        # third of building one), and copies a parsed one.
        self._endpoints: dict[str, httpx.URL] = {}

    def supports(self, entity: str, field: str, op: Op) -> bool:
        bound = self.binding.entities.get(entity)
        return bound is not None and field in bound.fields and op in bound.params

    async def fetch(self, entity: str, field: str, keys: Sequence[Any]) -> list[Record]:
        bound = self._entity(entity)
        name = self._param(bound, field, "in")  # an unusable field fails before any call
        unique = list(dict.fromkeys(keys))
        if not unique:
            return []
        assert bound.max_keys is not None  # the binding loader guarantees it for kind "rest"
        # Keys are unique, so a chunk of them has at most as many records; any other field, any number.
        batches = [
            self._walk(
                bound, {name: self._value(chunk)}, bound.key, None, len(chunk) if field == bound.key else None
            )
            for chunk in chunks(unique, bound.max_keys)
        ]
        if len(batches) == 1:  # the usual case: awaited as it is, not wrapped in a task of its own by gather
            return await batches[0]
        return [record for batch in await asyncio.gather(*batches) for record in batch]

    async def select(self, entity: str, where: Sequence[Condition], page: Page) -> list[Record]:
        bound = self._entity(entity)
        if page.limit < 1:
            raise UnsupportedQuery(self.department, "page limit must be at least 1")
        filters = self._filters(bound, where)
        if any(c.op == "in" and not _listed(c.value) for c in where):
            return []  # "one of no values" holds for no record; the API has no way to say it
        return await self._walk(bound, filters, page.order_by, page.after, page.limit)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _walk(
        self, bound: EntityBinding, filters: dict[str, str], order_by: str, after: Any, limit: int | None
    ) -> list[Record]:
        """Up to ``limit`` records (all, if None) matching ``filters``, in requests of ``max_keys``.

        An API caps the rows one request returns; asking for ``max_keys`` at a time keeps a large page
        (or every licence of many holders) within that cap, and a short answer marks the end.
        """
        assert bound.max_keys is not None  # the binding loader guarantees it for kind "rest"
        records: list[Record] = []
        while limit is None or len(records) < limit:
            size = bound.max_keys if limit is None else min(bound.max_keys, limit - len(records))
            batch = await self._get(bound, filters | self._paging(bound, order_by, after, size))
            records.extend(batch)
            if len(batch) < size:
                break
            after = batch[-1][order_by]
        return records

    async def _get(self, bound: EntityBinding, params: dict[str, str]) -> list[Record]:
        assert bound.path is not None and bound.items is not None
        endpoint = self._endpoints.get(bound.path)
        if endpoint is None:
            endpoint = self._endpoints[bound.path] = httpx.URL(self._url + bound.path)
        body = await self._http.request_json("GET", endpoint, params=params)
        if not isinstance(body, dict) or bound.items not in body:
            raise self._http.failed(f"response has no {bound.items!r} member")
        return map_items(self._http, bound, body[bound.items])

    def _filters(self, bound: EntityBinding, where: Sequence[Condition]) -> dict[str, str]:
        params: dict[str, str] = {}
        for condition in where:
            name = self._param(bound, condition.field, condition.op)
            if condition.op == "prefix" and condition.value == "":
                continue  # every text starts with "" (the whole city); an API refuses an empty value
            if name in params:
                raise UnsupportedQuery(self.department, f"two conditions on the parameter {name!r}")
            params[name] = self._value(condition.value, condition.op)
        return params

    def _param(self, bound: EntityBinding, field: str, op: Op) -> str:
        source = self._source_name(bound, field)
        template = bound.params.get(op)
        if template is None:
            raise UnsupportedQuery(self.department, f"the API takes no {op!r} filter")
        return template.replace("{field}", source)

    def _value(self, value: Any, op: Op = "in") -> str:
        """One query-parameter value; a list is comma-joined, so an ``eq``/``in`` value holds no comma."""
        listed = isinstance(value, list | tuple | set | frozenset)
        parts = [_scalar(item) for item in value] if listed else [_scalar(value)]
        if op in ("eq", "in") and any("," in part for part in parts):
            raise UnsupportedQuery(self.department, f"an {op!r} value contains a comma")
        return ",".join(parts)

    def _paging(self, bound: EntityBinding, order_by: str, after: Any, limit: int) -> dict[str, str]:
        params = {
            bound.params["order_by"]: self._source_name(bound, order_by),
            bound.params["limit"]: str(limit),
        }
        if after is not None:
            params[bound.params["after"]] = _scalar(after)
        return params

    def _source_name(self, bound: EntityBinding, field: str) -> str:
        if field not in bound.fields:
            raise UnsupportedQuery(self.department, f"no field {field!r} on {bound.name!r} in the binding")
        return bound.fields[field]


def _listed(value: Any) -> list[Any]:
    return [value] if isinstance(value, str) else list(value)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
