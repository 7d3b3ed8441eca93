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

This module holds who may act for which client and what a request names (client, purpose, DPoP
key), shared by the pages (``developer_pages.py``) and the JSON API (``developer_api.py``).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from starlette.requests import Request

from hub.admin.access import Forbidden, act_for_department, visitor
from hub.admin.console import console
from hub.admin.i18n import N_
from hub.context import Caller
from hub.errors import BadInput
from hub.graphql.graphiql import ASSETS
from hub.oauth.rfc7638 import UnacceptableKey, public_jwk
from hub.store import ClientRecord

DEVELOPERS = ("developer",)
MAX_TOKEN_SECONDS = 300
ASSET_URL = "/admin/developer/assets"
_PURPOSE = re.compile(r"^[a-z0-9._-]{1,64}$")  # what X-Hub-Purpose accepts
ASSETS_BY_NAME = {asset.name: asset for asset in ASSETS}


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
