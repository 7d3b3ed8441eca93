"""RFC 7638 JWK thumbprints, and the checks that keep a JWK public (RFC 7517, RFC 7518 6.2).

The hub accepts only P-256 EC keys (ES256 is its one algorithm) whose point is on the curve; a
JWK carrying any private member is refused outright rather than stripped: whoever sent it has
leaked the key. A client key the registry keeps (``client_jwk``) also needs a ``kid`` the hub can
show, log and remove again: 1-100 printable ASCII characters, no ``/`` and no space at either end;
the kid a client chose is kept (it signs its assertions with it), a key without one gets its thumbprint.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
# What a client key's kid may be: it is shown in the console, written to the admin log and named in
# DELETE .../keys/{kid} (which is why "/" is out and the limit is that route's 100; removal trims spaces).
_COORDINATE = re.compile(r"[A-Za-z0-9_-]{43}")  # RFC 7518 6.2.1.2: 32 bytes, base64url (RFC 7515 2)
_KID = re.compile(r"[!-.0-~](?:[ -.0-~]{0,98}[!-.0-~])?")


class UnacceptableKey(ValueError):
    """A JWK the hub will not use; the message says why."""


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 section 3: SHA-256 over the required members, lexicographic, no whitespace."""
    required = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


def public_jwk(jwk: Any) -> dict[str, Any]:
    """The key as the hub stores it: P-256 public members, ``kid`` = its thumbprint if absent."""
    if not isinstance(jwk, dict):
        raise UnacceptableKey("a JWK must be a JSON object")
    leaked = sorted(PRIVATE_MEMBERS & set(jwk))
    if leaked:
        raise UnacceptableKey(
            f"the JWK carries private members ({', '.join(leaked)}); send the public key only"
        )
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise UnacceptableKey("only EC P-256 keys are accepted (kty EC, crv P-256; ES256)")
    for name in ("x", "y"):  # as the signature check reads them (``jws``): 43 base64url characters, no padding
        if not isinstance(jwk.get(name), str) or not _COORDINATE.fullmatch(jwk[name]) or len(_b64(jwk[name])) != 32:
            raise UnacceptableKey(f"member {name!r} must be a 32-byte base64url coordinate (unpadded)")
    x, y = (int.from_bytes(_b64(jwk[name]), "big") for name in ("x", "y"))
    try:
        ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    except ValueError:
        raise UnacceptableKey("the point (x, y) is not on the P-256 curve") from None
    if jwk.get("use", "sig") != "sig" or jwk.get("alg", "ES256") != "ES256":
        raise UnacceptableKey("the key must be for signatures with ES256")
    key = {"kty": "EC", "crv": "P-256", "x": jwk["x"], "y": jwk["y"]}
    key["kid"] = str(jwk.get("kid") or thumbprint(key))
    return key


def client_jwk(jwk: Any) -> dict[str, Any]:
    """A client key as the registry keeps it: ``public_jwk``, its kid (if the client chose one) checked."""
    key = public_jwk(jwk)
    chosen = jwk.get("kid")
    if chosen not in (None, "") and not (isinstance(chosen, str) and _KID.fullmatch(chosen)):
        raise UnacceptableKey(
            "kid must be text of 1-100 printable ASCII characters, without '/' or spaces at either end "
            "(or leave it out: the hub then uses the key's RFC 7638 thumbprint)"
        )
    return key


def _b64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        return b""
