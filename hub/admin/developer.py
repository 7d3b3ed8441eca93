"""Developer access: GraphiQL against ``/graphql`` as one client a developer may act for.

The developer never handles a key. Their page makes a non-extractable P-256 key with WebCrypto,
sends its public half here (session + CSRF), and gets a normal hub access token for the client:
the client's live grants as scopes, bound to that key (``cnf.jkt``), for at most
``MAX_TOKEN_SECONDS`` (or the hub's own token lifetime if shorter). The page signs a DPoP proof
per request and declares the purpose it was opened for in ``X-Hub-Purpose``, so ``/graphql``
applies every policy, the audit, revocation and expiry exactly as for the client's own system.
Each issuance is on the admin log (developer, client, scopes, purpose, token id).

Only a developer, and only for a client listed on their account, in their department, active,
holding a live grant; operators, stewards and auditors act for no client here.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from graphql import introspection_from_schema
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from hub.admin import admin_log
from hub.admin.access import Forbidden, act_for_department, json_object, require, visitor
from hub.admin.console import console
from hub.errors import BadInput
from hub.context import Caller
from hub.graphql.graphiql import ASSETS, installed
from hub.oauth import jws
from hub.oauth.rfc7638 import UnacceptableKey, public_jwk, thumbprint
from hub.oauth.rfc9068 import AccessTokens
from hub.store import ClientRecord
from hub.admin.i18n import N_

DEVELOPERS = ("developer",)
MAX_TOKEN_SECONDS = 300
ASSET_URL = "/admin/developer/assets"
_PURPOSE = re.compile(r"^[a-z0-9._-]{1,64}$")  # what X-Hub-Purpose accepts
_ASSETS = {asset.name: asset for asset in ASSETS}


class Refused(BadInput):
    """Input the console cannot act on; the message says why (400)."""


@dataclass(frozen=True, slots=True)
class Sandbox:
    """One of the developer's clients as GraphiQL will act for it: its live scopes and their purposes."""

    client: ClientRecord
    scopes: frozenset[str]

    @property
    def purposes(self) -> list[str]:
        return sorted({p for scope in self.scopes for p in self.client.grants.get(scope, ())})

    def caller(self, purpose: str, end_user: str) -> Caller:
        return Caller(
            client_id=self.client.client_id, department=self.client.department, scopes=self.scopes,
            end_user=end_user, purpose=purpose, grants={s: self.client.grants[s] for s in self.scopes},
            jurisdiction=self.client.jurisdiction,
        )


async def sandbox(request: Request, client_id: Any) -> Sandbox:
    """The client if this developer may act for it now; ``Forbidden`` otherwise."""
    who = visitor(request)
    if not isinstance(client_id, str) or client_id not in who.account.clients:
        raise Forbidden(N_("you may act only for the clients listed on your account"))
    client = await console(request).stores.registry.client(client_id)
    if client is None:
        raise Forbidden(f"client {client_id} is no longer registered")
    act_for_department(who, client.department)
    if not client.active:
        raise Forbidden(f"client {client_id} or its department is blocked: no token is issued for it")
    return Sandbox(client, client.scopes & console(request).oauth.catalogue)


def chosen_purpose(found: Sandbox, purpose: Any) -> str:
    if not isinstance(purpose, str) or not _PURPOSE.match(purpose):
        raise Refused(N_("choose a purpose (1-64 of a-z 0-9 . _ -)"))
    if purpose not in found.purposes:
        named = ", ".join(found.purposes) or "none"
        raise Refused(f"the client's live grants name the purposes {named}, not {purpose!r}")
    return purpose


def dpop_key(jwk: Any) -> dict[str, Any]:
    """The browser's public DPoP key: P-256, public members only, and a point on the curve."""
    try:
        key = public_jwk(jwk)
    except UnacceptableKey as exc:
        raise Refused(f"DPoP key: {exc}") from None
    x, y = (int.from_bytes(_b64(key[n]), "big") for n in ("x", "y"))
    try:
        ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    except ValueError:
        raise Refused("DPoP key: the point is not on the P-256 curve") from None
    return key


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def token_lifetime(request: Request) -> int:
    return min(console(request).settings.access_token_minutes * 60, MAX_TOKEN_SECONDS)


async def _issue(request: Request, found: Sandbox, purpose: str, jkt: str) -> dict[str, Any]:
    server = console(request).oauth
    parts = server.parts
    # The hub's own token maker with a shorter lifetime: the same keys, issuer, audience and claims.
    lifetime = token_lifetime(request)
    tokens = AccessTokens(parts.keyring, server.issuer, server.resource, lifetime, server.clock)
    token = await tokens.issue(found.client, found.scopes, jkt)
    claims = jws.parts(token)[1]
    await admin_log.record(request, "developer.token", found.client.client_id, None, {
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


@require(*DEVELOPERS)
async def developer_page(request: Request) -> Response:
    """The developer's clients, each with its live scopes and the purposes to open GraphiQL for."""
    registry = console(request).stores.registry
    catalogue = console(request).oauth.catalogue
    clients = []
    for client_id in sorted(visitor(request).account.clients):
        client = await registry.client(client_id)
        if client is not None:
            clients.append(Sandbox(client, client.scopes & catalogue))
    return console(request).page(request, "developer.html", {"clients": clients})


@require(*DEVELOPERS)
async def graphiql_page(request: Request) -> Response:
    query = request.query_params
    found = await sandbox(request, query.get("client_id"))
    purpose = chosen_purpose(found, query.get("purpose"))
    context = {
        "client": found.client, "scopes": sorted(found.scopes), "purpose": purpose,
        "assets": ASSET_URL, "sri": {a.name: a.integrity for a in ASSETS},
        "installed": installed(console(request).settings.graphiql_assets_dir),
        "lifetime": token_lifetime(request) // 60,
    }
    return console(request).page(request, "developer_graphiql.html", context)


@require(*DEVELOPERS)
async def asset(request: Request) -> Response:
    """GraphiQL's files (installed by ``hub graphiql install``), served here whether or not the
    public ``/graphql`` page is on: the console is where developers use GraphiQL in production."""
    found = _ASSETS.get(request.path_params["name"])
    path = console(request).settings.graphiql_assets_dir / found.name if found else None
    if path is None or not path.is_file():
        return JSONResponse({"error": "not_found", "message": "no such GraphiQL file"}, status_code=404)
    return FileResponse(path)


def routes() -> list[Route]:
    return [
        Route("/developer", developer_page, methods=["GET"]),
        Route("/developer/graphiql", graphiql_page, methods=["GET"]),
        Route("/developer/assets/{name}", asset, methods=["GET"]),
    ]


def api_routes() -> list[Route]:
    return [
        Route("/developer/token", issue_token, methods=["POST"]),
        Route("/developer/schema", schema, methods=["GET"]),
    ]
