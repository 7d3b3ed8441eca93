"""RFC 7662 token introspection, for authenticated clients about their own tokens.

Section 2.2: "If the introspection call is properly authorized but the token is not active,
does not exist on this server, or the protected resource is not allowed to introspect this
particular token, then the authorization server MUST return an introspection response with the
'active' field set to false" and "SHOULD NOT include any additional information". A client may
introspect only tokens issued to it, so the endpoint cannot be used to probe other clients' tokens.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from hub.oauth.errors import InvalidRequest, InvalidToken
from hub.oauth.request import OAuthRequest
from hub.oauth.rfc7523 import ClientAuthenticator

Answer = tuple[int, dict[str, Any], dict[str, str]]
INACTIVE: Answer = (200, {"active": False}, {})
SHOWN = ("scope", "client_id", "sub", "aud", "iss", "exp", "iat", "nbf", "jti", "cnf")


class Introspection:
    def __init__(
        self, clients: ClientAuthenticator, live_claims: Callable[[str], Awaitable[dict[str, Any]]]
    ) -> None:
        self._clients = clients
        self._live_claims = live_claims

    async def handle(self, request: OAuthRequest) -> Answer:
        form = request.form()
        client = await self._clients.authenticate(form, request.authorization)
        token = form.get("token")
        if token is None:
            raise InvalidRequest("the token parameter is required")
        try:
            claims = await self._live_claims(token)
        except InvalidToken:
            return 200, {"active": False}, {}
        if claims["client_id"] != client.client_id:
            return 200, {"active": False}, {}
        shown = {name: claims[name] for name in SHOWN if name in claims}
        return 200, {"active": True, "token_type": "DPoP", **shown}, {}
