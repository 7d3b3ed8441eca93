"""The OAuth endpoints as small ASGI apps: each adapts one protocol core to HTTP.

Every answer, success or error, carries ``Cache-Control: no-store`` (RFC 6749 5.1; FAPI 2.0):
tokens, introspection results and even errors are never cached by anything in between.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Receive, Scope, Send

from hub.bounded_body import BodyTooLarge, read_bounded
from hub.faults import outage_of
from hub.oauth.errors import InvalidRequest, OAuthError, UseDPoPNonce
from hub.oauth.request import OAuthRequest
from hub.oauth.rfc8414 import metadata
from hub.oauth.server import AuthorizationServer, Parts

MAX_BODY = 64_000
log = logging.getLogger(__name__)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
Core = Callable[[Parts], Callable[[OAuthRequest], Awaitable[tuple[int, dict[str, Any], dict[str, str]]]]]


class OAuthEndpoint:
    def __init__(self, server: AuthorizationServer, core: Core, path: str) -> None:
        self._server = server
        self._core = core
        self._url = f"{server.issuer}{path}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self._answer(request)
        await response(scope, receive, send)

    async def _answer(self, request: Request) -> JSONResponse:
        try:
            parts = self._server.parts
            status, body, headers = await self._core(parts)(await self._read(request))
        except OAuthError as exc:
            extra = {"DPoP-Nonce": exc.nonce} if isinstance(exc, UseDPoPNonce) else {}
            body = {"error": exc.error, "error_description": exc.description}
            return JSONResponse(body, exc.status, headers={**NO_STORE, **extra})
        except Exception as exc:  # a bug: a generic answer, still never cached, details in the log
            if outage_of(exc) is not None:
                raise  # a dependency's outage: 503 with Retry-After at the edge (hub.faults.edge)
            log.exception("OAuth endpoint %s failed", self._url)
            body = {"error": "server_error", "error_description": "the server could not answer this request"}
            return JSONResponse(body, 500, headers=NO_STORE)
        return JSONResponse(body, status, headers={**NO_STORE, **headers})

    async def _read(self, request: Request) -> OAuthRequest:
        items: list[tuple[str, str]] = []
        if request.method == "POST" and request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            try:
                body = await read_bounded(request, MAX_BODY)
            except BodyTooLarge:
                raise InvalidRequest("the request body is too large") from None
            try:
                items = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=50)
            except ValueError:  # more fields than any OAuth request has
                raise InvalidRequest("too many parameters") from None
        return OAuthRequest(
            method=request.method,
            url=self._url,
            query=list(request.query_params.multi_items()),
            content_type=request.headers.get("content-type", ""),
            form_items=items,
            authorization=request.headers.get("authorization"),
            dpop=request.headers.getlist("dpop"),
        )


def oauth_routes(server: AuthorizationServer) -> list[BaseRoute]:
    async def discovery(request: Request) -> JSONResponse:
        return JSONResponse(metadata(server.issuer, server.catalogue))

    async def jwks(request: Request) -> JSONResponse:
        parts = server.parts
        keys = await parts.keyring.published(server.clock.now())
        body = {"keys": [{**k.public, "alg": "ES256", "use": "sig"} for k in keys]}
        return JSONResponse(body, headers={"Cache-Control": "public, max-age=60"})

    return [
        Route("/.well-known/oauth-authorization-server", discovery),
        Mount(
            "/oauth",
            routes=[
                Route("/jwks", jwks),
                Route("/token", OAuthEndpoint(server, lambda p: p.token.handle, "/oauth/token")),
                Route(
                    "/introspect",
                    OAuthEndpoint(server, lambda p: p.introspection.handle, "/oauth/introspect"),
                ),
                Route("/revoke", OAuthEndpoint(server, lambda p: p.revocation.handle, "/oauth/revoke")),
            ],
        ),
    ]
