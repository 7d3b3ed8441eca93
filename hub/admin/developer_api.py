"""The developer's JSON API under ``/admin/api/developer``: a DPoP-bound token for one of their
clients, and that client's view of the graph for GraphiQL's explorer (``developer_access.py``).
"""

from __future__ import annotations

from typing import Any

from graphql import introspection_from_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub.admin.access import Forbidden, json_object, require, visitor
from hub.admin.admin_log_access import record
from hub.admin.console import console
from hub.admin.developer_access import (
    DEVELOPERS, Sandbox, chosen_purpose, dpop_key, sandbox, token_lifetime,
)
from hub.oauth import jws
from hub.oauth.rfc7638 import thumbprint
from hub.oauth.rfc9068 import AccessTokens


async def _issue(request: Request, found: Sandbox, purpose: str, jkt: str) -> dict[str, Any]:
    server = console(request).oauth
    parts = server.parts
    # The hub's own token maker with a shorter lifetime: the same keys, issuer, audience and claims.
    lifetime = token_lifetime(request)
    tokens = AccessTokens(parts.keyring, server.issuer, server.resource, lifetime, server.clock)
    token = await tokens.issue(found.client, found.scopes, jkt)
    claims = jws.parts(token)[1]
    await record(request, "developer.token", found.client.client_id, None, {
        "scopes": sorted(found.scopes), "purpose": purpose, "jti": claims["jti"], "jkt": jkt,
        "expires_at": claims["exp"],
    })
    return {
        "access_token": token, "token_type": "DPoP", "expires_in": tokens.lifetime,
        # The URL proofs name (htu): /graphql checks it against the issuer, whatever the resource id.
        "scope": claims["scope"], "purpose": purpose, "graphql_url": f"{server.issuer}/graphql",
        "expires_at": claims["exp"],
    }



@require(*DEVELOPERS)
async def issue_token(request: Request) -> Response:
    """``POST /admin/api/developer/token`` ``{client_id, purpose, jwk}``: a DPoP-bound token for
    the client (its live grants as scopes), made by the hub's own token maker."""
    body = await json_object(request)
    found = await sandbox(request, body.get("client_id"))
    purpose = chosen_purpose(found, body.get("purpose"))
    key = dpop_key(body.get("jwk"))
    return JSONResponse(await _issue(request, found, purpose, thumbprint(key)))


@require(*DEVELOPERS)
async def schema(request: Request) -> Response:
    """``GET /admin/api/developer/schema?client_id=&purpose=``: the client's live scopes and the
    introspection of its view of the graph for that purpose (what GraphiQL's explorer shows)."""
    query = request.query_params
    found = await sandbox(request, query.get("client_id"))
    purpose = chosen_purpose(found, query.get("purpose"))
    view = console(request).views.for_caller(found.caller(purpose, visitor(request).account.username))
    if view.reaches_nothing:
        raise Forbidden(f"client {found.client.client_id}'s grants reach nothing in this graph")
    return JSONResponse({
        "client_id": found.client.client_id, "purpose": purpose, "scopes": sorted(found.scopes),
        "introspection": introspection_from_schema(view.schema),
    })



def routes() -> list[Route]:
    return [
        Route("/developer/token", issue_token, methods=["POST"]),
        Route("/developer/schema", schema, methods=["GET"]),
    ]
