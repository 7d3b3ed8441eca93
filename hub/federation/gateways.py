"""Who calls a subgraph endpoint: a Federation gateway by its TLS client certificate, else as /graphql.

Gateways (Apollo Router and Gateway, Hive Gateway, Cosmo) cannot make DPoP proofs, nor forward a
department system's (a proof is bound to the URL the system called). They can present a TLS client
certificate. A request that comes with one (``hub.federation.certificates``) is the gateway's whose
registered certificate it is (``hub.store.gateways``), read on every request:

- what it may read is bounded by the gateway's own grants, purposes and its department's jurisdiction;
- what it says about the request is its declaration, checked like any input and recorded as such:
  ``X-Hub-End-User``, ``X-Hub-Purpose``, ``X-Hub-Case`` (the characters /graphql allows) and
  ``X-Hub-Origin-Client``, the department system it acts for (an active registered system);
- ``X-Hub-Origin-Token`` may carry that system's own access token (live: signed, in date, not revoked,
  its client active). It proves the origin, and its scopes and the system's grants then bound the
  answer too (scopes and purposes both narrowed to what both hold). The token's DPoP binding cannot
  be proven by the gateway, so the token only ever narrows what the gateway itself may read.

A request without a certificate is authenticated as on /graphql (a department system's DPoP token).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

from hub.auth import Authenticator
from hub.context import Caller
from hub.errors import AccessRefused
from hub.federation.certificates import Network, presented_certificate, refused
from hub.oauth.errors import OAuthError
from hub.oauth.resource import CALLER_HEADERS
from hub.oauth.server import AuthorizationServer
from hub.store.gateways import Gateways
from hub.store.registry import ClientRecord

DECLARED = {**CALLER_HEADERS, "x-hub-origin-client": re.compile(r"^[A-Za-z0-9._:-]{1,64}$"),
            "x-hub-origin-token": re.compile(r"^[A-Za-z0-9_.-]{1,4096}$")}


class GatewayAccess:
    def __init__(self, server: AuthorizationServer, proxies: tuple[Network, ...], otherwise: Authenticator) -> None:
        self._server = server
        self._proxies = proxies
        self._otherwise = otherwise  # a request without a certificate: the graph's own authenticator
        self.gateways = Gateways(server.parts.engine, server.clock.now)

    async def __call__(self, request: Request) -> Caller:
        certificate = presented_certificate(request, self._proxies)
        if certificate is None:
            return await self._otherwise(request)
        gateway = await self.gateways.client_by_certificate(certificate.thumbprint)
        if gateway is None or not gateway.active:
            raise refused("this client certificate belongs to no active gateway")
        declared = {name: _declared(request, name) for name in DECLARED}
        scopes = gateway.scopes & self._server.catalogue
        grants: dict[str, frozenset[str]] = {s: gateway.grants[s] for s in scopes}
        origin, proven = declared["x-hub-origin-client"], declared["x-hub-origin-token"] is not None
        if proven:
            origin, grants = await self._origin_bound(declared["x-hub-origin-token"], origin, grants)
        elif origin is not None:
            await self._check_origin(origin)
        if not grants:
            raise AccessRefused(403, "insufficient_scope", "this gateway's grants reach nothing here"
                                + (" that the originating system is also granted" if proven else ""))
        return Caller(
            client_id=gateway.client_id, department=gateway.department, scopes=frozenset(grants),
            end_user=declared["x-hub-end-user"], purpose=declared["x-hub-purpose"],
            case_number=declared["x-hub-case"], grants=grants, jurisdiction=gateway.jurisdiction,
            gateway=gateway.client_id, origin_client=origin, origin_proven=proven,
            limits=gateway.limits,  # fair use: a gateway's own rate limit, budgets and quotas, as any client's
            quotas={scope: quota for scope, quota in gateway.quotas.items() if scope in grants},
        )

    async def _origin_bound(
        self, token: Any, declared: str | None, grants: Mapping[str, frozenset[str]]
    ) -> tuple[str, dict[str, frozenset[str]]]:
        """The proven origin, and the gateway's grants narrowed to what its token and grants hold."""
        try:
            claims, system = await self._server.live(str(token))
        except OAuthError as exc:
            raise AccessRefused(401, "invalid_token", f"X-Hub-Origin-Token: {exc.description}",
                                'DPoP algs="ES256"') from None
        if declared is not None and declared != system.client_id:
            raise _bad("X-Hub-Origin-Client names another system than X-Hub-Origin-Token's")
        held = frozenset(str(claims.get("scope", "")).split()) & system.scopes
        return system.client_id, {s: p & system.grants[s] for s, p in grants.items()
                                  if s in held and p & system.grants[s]}

    async def _check_origin(self, client_id: str) -> None:
        system: ClientRecord | None = await self._server.parts.registry.client(client_id)
        if system is None or not system.active or system.kind != "system":
            raise _bad("X-Hub-Origin-Client names no active department system")


def _declared(request: Request, name: str) -> str | None:
    values = request.headers.getlist(name)
    if not values:
        return None
    if len(values) > 1 or not DECLARED[name].match(values[0]):
        raise _bad(f"header {name} is malformed (see the README for its characters and length)")
    return values[0]


def _bad(description: str) -> AccessRefused:
    return AccessRefused(400, "invalid_request", description)
