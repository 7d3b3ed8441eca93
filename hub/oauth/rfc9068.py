"""RFC 9068 JWT access tokens: issued by the token endpoint, validated at ``/graphql``.

Issued: ``typ: at+jwt``, ES256, ``kid`` = the RFC 7638 thumbprint of the active signing key,
``iss``, ``sub`` = ``client_id`` (client credentials: the client acts for itself), ``aud`` =
the hub's resource identifier as a string, ``exp``/``iat`` minutes apart, ``jti``, ``scope``,
and ``cnf.jkt`` binding the token to the client's DPoP key (RFC 9449 section 6).

Validated strictly (section 4): authlib treats ``typ`` as optional and its default algorithms
include HS256; here the ``typ`` MUST be ``at+jwt``, the algorithm is ES256 alone, the ``kid``
must be a published hub key, ``aud`` must be exactly this hub, and every claim above must be
present and in date.
"""

from __future__ import annotations

import secrets
from typing import Any

from hub.oauth import jws
from hub.oauth.clock import Clock
from hub.oauth.errors import InvalidToken
from hub.oauth.keyring import KeyRing
from hub.store import ClientRecord

TOKEN_TYPE = "at+jwt"
SKEW = 30
TOKENS_KEPT = 4096  # verified tokens remembered (``AccessTokens._verified``), a few per client
REQUIRED = ("iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope", "cnf")


class AccessTokens:
    def __init__(self, keyring: KeyRing, issuer: str, resource: str, lifetime: int, clock: Clock) -> None:
        self._keyring = keyring
        self.issuer = issuer
        self.resource = resource
        self.lifetime = lifetime
        self._clock = clock
        # Tokens whose signature verified, with the key it verified with: a client presents the same
        # token on every request for its lifetime, and the same bytes verify the same way with the
        # same key. The key is looked up (a retired kid refused) and every claim checked each time.
        self._verified: dict[tuple[str, str, str], None] = {}

    async def issue(self, client: ClientRecord, scopes: frozenset[str], jkt: str) -> str:
        kid, key = await self._keyring.store.active_private()
        now = self._clock.now()
        claims = {
            "iss": self.issuer,
            "sub": client.client_id,
            "aud": self.resource,
            "client_id": client.client_id,
            "iat": now,
            "exp": now + self.lifetime,
            "jti": secrets.token_urlsafe(24),
            "scope": " ".join(sorted(scopes)),
            "cnf": {"jkt": jkt},
        }
        return jws.sign({"typ": TOKEN_TYPE, "kid": kid}, claims, key)

    async def validate(self, token: str) -> dict[str, Any]:
        """The token's claims, or raise ``InvalidToken`` saying why (for error_description)."""
        try:
            header, claims = jws.parts(token)
            jws.check_header(header, typ=TOKEN_TYPE)
        except jws.JWSRejected as exc:
            raise InvalidToken(f"access token: {exc}") from None
        now = self._clock.now()
        kid = header.get("kid")
        key = await self._keyring.public_key(kid, now) if isinstance(kid, str) else None
        if key is None:
            raise InvalidToken("access token: kid names no current signing key of this hub")
        verified = (token, str(key.get("x")), str(key.get("y")))
        if verified not in self._verified:
            try:
                jws.verify(token, key)
            except jws.JWSRejected as exc:
                raise InvalidToken(f"access token: {exc}") from None
            if len(self._verified) >= TOKENS_KEPT:
                self._verified.clear()
            self._verified[verified] = None
        self._check_claims(claims, now)
        return claims

    def _check_claims(self, claims: dict[str, Any], now: int) -> None:
        missing = [name for name in REQUIRED if name not in claims]
        if missing:
            raise InvalidToken(f"access token: missing claims {', '.join(missing)}")
        if claims["iss"] != self.issuer:
            raise InvalidToken("access token: not issued by this hub (iss)")
        if claims["aud"] != self.resource:
            raise InvalidToken(f"access token: aud must be {self.resource!r}")
        exp, iat, nbf = claims["exp"], claims["iat"], claims.get("nbf", claims["iat"])
        if not all(isinstance(v, int) for v in (exp, iat, nbf)):
            raise InvalidToken("access token: exp, iat and nbf must be integers")
        if exp <= now:
            raise InvalidToken("access token: expired")
        if nbf > now + SKEW or iat > now + SKEW:
            raise InvalidToken("access token: not yet valid (nbf/iat in the future)")
        if exp - iat > self.lifetime + SKEW:
            raise InvalidToken("access token: lifetime longer than this hub issues")
        cnf = claims["cnf"]
        if not isinstance(cnf, dict) or not isinstance(cnf.get("jkt"), str):
            raise InvalidToken("access token: not bound to a DPoP key (cnf.jkt)")
        if not isinstance(claims["scope"], str) or not isinstance(claims["client_id"], str):
            raise InvalidToken("access token: scope and client_id must be strings")
