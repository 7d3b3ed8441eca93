"""The token endpoint (RFC 6749 section 4.4, client credentials), the hub's only grant.

Order of checks: transport rules, the DPoP proof (so a nonce round-trip costs no assertion),
client authentication (RFC 7523), then the proof's jti is spent (so a request failing client
authentication cannot burn a client's proof), grant type, resource (RFC 8707), scope. Section 5.1: the
response carries ``Cache-Control: no-store`` (added by the endpoint adapter to every answer).
"""

from __future__ import annotations

from typing import Any

from hub.oauth.errors import InvalidScope, UnsupportedGrantType
from hub.oauth.request import OAuthRequest
from hub.oauth.rfc7523 import ClientAuthenticator
from hub.oauth.rfc8707 import target
from hub.oauth.rfc9068 import AccessTokens
from hub.oauth.rfc9449 import DPoPVerifier

Answer = tuple[int, dict[str, Any], dict[str, str]]


class TokenEndpoint:
    def __init__(
        self,
        clients: ClientAuthenticator,
        dpop: DPoPVerifier,
        tokens: AccessTokens,
        catalogue: frozenset[str],
    ) -> None:
        self._clients = clients
        self._dpop = dpop
        self._tokens = tokens
        self._catalogue = catalogue

    async def handle(self, request: OAuthRequest) -> Answer:
        form = request.form()
        checked = await self._dpop.check(request.dpop, "POST", request.url)
        client = await self._clients.authenticate(form, request.authorization)
        await self._dpop.record(checked)  # spent only by an authenticated client
        jkt = checked.jkt
        if form.get("grant_type") != "client_credentials":
            raise UnsupportedGrantType("the hub grants client_credentials only")
        target(request.values("resource"), self._tokens.resource)
        allowed = client.scopes & self._catalogue  # the scopes its live grants hold now
        requested = frozenset(form["scope"].split()) if "scope" in form else allowed
        if not requested <= allowed:
            raise InvalidScope(f"not granted to this client: {' '.join(sorted(requested - allowed))}")
        if not requested:
            raise InvalidScope("this client holds no live grant for a scope of the catalogue")
        token = await self._tokens.issue(client, requested, jkt)
        body = {
            "access_token": token,
            "token_type": "DPoP",
            "expires_in": self._tokens.lifetime,
            "scope": " ".join(sorted(requested)),
        }
        return 200, body, {}
