"""The id_token of an OpenID Connect sign-in, verified (OpenID Connect Core 1.0, section 3.1.3.7).

Signed by a key of the provider's JWKS with an asymmetric algorithm (never ``none``, never HS256
with the client secret); ``iss`` the configured issuer; ``aud`` contains our client id and, if it
names others, ``azp`` is ours; ``exp`` in the future and ``iat`` present (a minute of leeway for
clocks); ``nonce`` the one this browser's sign-in sent; ``sub`` present.
"""

from __future__ import annotations

from typing import Any, cast

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, KeySetSerialization
from joserfc.jwt import JWTClaimsRegistry

ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"]
LEEWAY_SECONDS = 60


class IdTokenRefused(ValueError):
    """An id_token (or the provider's metadata) this hub does not accept; the message says why."""


def verified_claims(
    id_token: str, jwks: dict[str, Any], *, issuer: str, client_id: str, nonce: str, now: int | None = None
) -> dict[str, Any]:
    try:
        keys = KeySet.import_key_set(cast(KeySetSerialization, jwks))  # checked by joserfc as it imports
        token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
    except (JoseError, ValueError, TypeError) as exc:
        raise IdTokenRefused(f"bad signature or format ({type(exc).__name__})") from None
    registry = JWTClaimsRegistry(
        now=now, leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": issuer}, aud={"essential": True, "value": client_id},
        sub={"essential": True}, exp={"essential": True}, iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(token.claims)
    except JoseError as exc:
        raise IdTokenRefused(str(exc) or type(exc).__name__) from None
    audiences = token.claims["aud"] if isinstance(token.claims["aud"], list) else [token.claims["aud"]]
    if len(audiences) > 1 and token.claims.get("azp") != client_id:
        raise IdTokenRefused("the token is meant for several clients and names another as its party")
    return dict(token.claims)
