"""RFC 7009 token revocation, by the client the token was issued to.

Section 2.1: the server "first validates the client credentials ... and then verifies whether
the token was issued to the client making the revocation request". Section 2.2: "The
authorization server responds with HTTP status code 200 if the token has been revoked
successfully or if the client submitted an invalid token" -- a token of another client is
invalid for this one, so it is left alone and the answer is the same 200. Revocation puts the
token's ``jti`` on the denylist until the token would have expired anyway.
"""

from __future__ import annotations

from typing import Any

from hub.oauth.errors import InvalidRequest, InvalidToken
from hub.oauth.request import OAuthRequest
from hub.oauth.rfc7523 import ClientAuthenticator
from hub.oauth.rfc9068 import AccessTokens
from hub.store import ClientStore

Answer = tuple[int, dict[str, Any], dict[str, str]]


class Revocation:
    def __init__(self, clients: ClientAuthenticator, tokens: AccessTokens, registry: ClientStore) -> None:
        self._clients = clients
        self._tokens = tokens
        self._registry = registry

    async def handle(self, request: OAuthRequest) -> Answer:
        form = request.form()
        client = await self._clients.authenticate(form, request.authorization)
        token = form.get("token")
        if token is None:
            raise InvalidRequest("the token parameter is required")
        try:
            claims = await self._tokens.validate(token)
        except InvalidToken:
            return 200, {}, {}
        if claims["client_id"] == client.client_id:
            await self._registry.revoke_token(claims["jti"], client.client_id, int(claims["exp"]))
        return 200, {}, {}
