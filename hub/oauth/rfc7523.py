"""RFC 7523 section 2.2 client authentication (``private_key_jwt``), the only kind the hub takes.

FAPI 2.0 profile: the assertion's ``aud`` is the issuer identifier as a string (not an array,
not the endpoint URL), ``iss`` and ``sub`` are the client id, the ``kid`` names one of the
client's registered keys, ``exp`` is short, ``jti`` is used once. Client secrets, HTTP Basic,
and keys carried in the assertion's header are refused. Every failure is ``invalid_client``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.oauth import jws
from hub.oauth.clock import Clock
from hub.oauth.errors import InvalidClient
from hub.store import ClientRecord, ClientStore

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# An assertion may carry no typ, the generic JWT, or the explicit client-authentication type;
# never the type of an access token or a DPoP proof (RFC 8725 3.11: no kind passes for another).
ASSERTION_TYPES = (None, "jwt", "client-authentication+jwt")
MAX_LIFETIME = 300  # seconds between now and exp at most: "short expiry"
SKEW = 30
# One description whether the client id is unknown, the client (or its department) disabled, the
# kid not one of its keys, or the signature wrong: the answer does not tell which client ids exist.
UNAUTHENTICATED = (
    "client assertion: the client is unknown or disabled, or the assertion is not signed by one of its "
    "registered keys (kid and signature)"
)


class ClientAuthenticator:
    def __init__(self, registry: ClientStore, issuer: str, clock: Clock) -> None:
        self._registry = registry
        self._issuer = issuer
        self._clock = clock

    async def authenticate(self, form: Mapping[str, str], authorization: str | None) -> ClientRecord:
        if authorization is not None or "client_secret" in form:
            raise InvalidClient("clients authenticate with private_key_jwt only (RFC 7523), never a secret")
        if form.get("client_assertion_type") != ASSERTION_TYPE or not form.get("client_assertion"):
            raise InvalidClient(f"client authentication required: client_assertion_type {ASSERTION_TYPE}")
        assertion = form["client_assertion"]
        try:
            header, claims = jws.parts(assertion)
            jws.check_header(header, typ=None)
        except jws.JWSRejected as exc:
            raise InvalidClient(f"client assertion: {exc}") from None
        if jws.normal_typ(header.get("typ")) not in ASSERTION_TYPES:
            raise InvalidClient("client assertion: its typ is not that of a client assertion")
        client = await self._client_of(claims, form.get("client_id"))
        kid = header.get("kid")
        key = client.key(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidClient(UNAUTHENTICATED)
        try:
            jws.verify(assertion, key)
        except jws.JWSRejected:
            raise InvalidClient(UNAUTHENTICATED) from None
        await self._check_claims(client, claims)
        return client

    async def _client_of(self, claims: dict[str, Any], client_id: str | None) -> ClientRecord:
        iss, sub = claims.get("iss"), claims.get("sub")
        if not isinstance(sub, str) or iss != sub:
            raise InvalidClient("client assertion: iss and sub must both be the client id")
        if client_id is not None and client_id != sub:
            raise InvalidClient("client_id does not match the assertion's subject")
        client = await self._registry.client(sub)
        if client is None or not client.active:
            raise InvalidClient(UNAUTHENTICATED)
        return client

    async def _check_claims(self, client: ClientRecord, claims: dict[str, Any]) -> None:
        now = self._clock.now()
        if claims.get("aud") != self._issuer:
            raise InvalidClient(f"client assertion: aud must be the issuer {self._issuer!r} as a string")
        exp, iat, nbf, jti = (claims.get(n) for n in ("exp", "iat", "nbf", "jti"))
        if not isinstance(exp, int) or exp <= now:
            raise InvalidClient("client assertion: exp is missing or past")
        if exp > now + MAX_LIFETIME:
            raise InvalidClient(f"client assertion: exp may be at most {MAX_LIFETIME} s ahead")
        if iat is not None and (not isinstance(iat, int) or iat > now + SKEW):
            raise InvalidClient("client assertion: iat is in the future")
        if nbf is not None and (not isinstance(nbf, int) or nbf > now + SKEW):
            raise InvalidClient("client assertion: not yet valid (nbf)")
        if not isinstance(jti, str) or not 8 <= len(jti) <= 128:
            raise InvalidClient("client assertion: jti must be a string of 8-128 characters")
        # Recorded in the registry database, not a per-process cache: every replica shares it.
        if not await self._registry.first_use_assertion(client.client_id, jti, exp + SKEW, now):
            raise InvalidClient("client assertion: this jti was already used")
