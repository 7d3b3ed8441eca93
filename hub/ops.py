"""Operator endpoints the CLI calls on a running hub (today: entity cache invalidation).

Protected by the operator token from the settings (``HUB_OPS_TOKEN``); without one configured the
endpoint answers 404, as if it did not exist.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hub.data.cache import namespace_of

if TYPE_CHECKING:
    from hub.data.sources import Sources

MAX_KEYS = 10_000


class OpsEndpoint:
    """``token``: the operator token (none: the endpoint answers 404); ``sources``: whose entity cache
    and connectors it acts on."""

    def __init__(self, token: str | None, sources: Sources) -> None:
        self.token = token
        self.sources = sources

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        response = await self.handle(request)
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        token = self.token
        if token is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return JSONResponse({"error": "operator token required"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        try:
            payload = orjson.loads(await request.body())
            connector, entity, field, keys = _parse(payload, self.sources)
        except (orjson.JSONDecodeError, ValueError) as exc:
            return JSONResponse({"error": str(exc) or "body must be JSON"}, status_code=400)
        return JSONResponse({"invalidated": await invalidate(self.sources, connector, entity, field, keys)})


def _parse(payload: Any, sources: Sources) -> tuple[str, str, str, list[str] | None]:
    if not isinstance(payload, dict):
        raise ValueError("body must be a JSON object")  # noqa: TRY004  answered 400, as every bad body
    connector, entity = payload.get("connector"), payload.get("entity")
    conn = sources.connectors.get(connector) if isinstance(connector, str) else None
    if conn is None or not isinstance(connector, str):
        raise ValueError(f"unknown connector; known: {', '.join(sorted(sources.connectors))}")
    if not isinstance(entity, str) or entity not in conn.entities():
        raise ValueError(f"unknown entity for {connector}; known: {', '.join(conn.entities())}")
    field = payload.get("field") or conn.key_of(entity)
    keys = payload.get("keys")
    if keys is not None and (
        not isinstance(keys, list) or len(keys) > MAX_KEYS or not all(isinstance(k, str) for k in keys)
    ):
        raise ValueError(f"keys must be a list of at most {MAX_KEYS} strings")
    return connector, entity, str(field), keys


async def invalidate(sources: Sources, connector: str, entity: str, field: str, keys: list[str] | None) -> int:
    cache = sources.cache
    if keys is None:
        return await cache.clear(f"{connector}:{entity}:")
    return await cache.invalidate(namespace_of(connector, entity, field), keys)
