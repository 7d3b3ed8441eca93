"""The strict JWS layer every token in the hub goes through (RFC 7515, RFC 8725).

joserfc does the cryptography; the rules it leaves to its caller are enforced here, before any
key is touched: the one algorithm is ES256 (no ``none``, no HMAC keyed with a public key, nothing
off the list), the ``typ`` is the one expected for this kind of token (RFC 8725 3.11, so one kind
cannot pass for another), no ``crit`` extension is understood (RFC 7515 4.1.11: a recipient MUST
reject what it does not understand), and header keys (``jwk``, ``jku``, ``x5u``, ``x5c``) are
refused unless the kind of token is defined to carry one (DPoP proofs carry ``jwk``).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.hashes import SHA256
from joserfc import jws
from joserfc.jwk import ECKey

ALGORITHM = "ES256"
# The longest compact JWS the hub reads (access tokens, DPoP proofs, client assertions are all far
# shorter): a bound on the work any token makes before its signature is checked.
MAX_COMPACT = 8192
# Public keys imported, by their members (``_imported``); a cache of what the import computes alone.
KEYS_KEPT = 1024
_KEYS: dict[tuple[Any, ...], ec.EllipticCurvePublicKey] = {}
_ES256 = ec.ECDSA(SHA256())
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")  # RFC 7515 2: base64url without padding, nothing else
# RFC 7515 7.1: exactly three base64url segments; header and payload not empty.
_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
KEY_HEADERS = frozenset({"jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256"})
# Registered JWS algorithm names (RFC 7518, RFC 8037, RFC 8812): a refusal may name one of these,
# never an arbitrary value from the header.
NAMED_ALGORITHMS = frozenset(
    {"none", "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256",
     "PS384", "PS512", "EdDSA", "Ed25519", "Ed448", "ES256K"}
)


class JWSRejected(ValueError):
    """A compact JWS that is malformed, of the wrong kind, or not validly signed."""


def _segment(text: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, TypeError, RecursionError):  # RecursionError: JSON nested too deeply
        raise JWSRejected("not a compact JWS (a segment is not base64url JSON)") from None


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims, unverified: only to find which key to verify with."""
    if isinstance(token, str) and len(token) > MAX_COMPACT:
        raise JWSRejected(f"a compact JWS is at most {MAX_COMPACT} characters here")
    pieces = token.split(".") if isinstance(token, str) else []
    if len(pieces) != 3 or not pieces[0] or not pieces[1]:
        raise JWSRejected("not a compact JWS (header.payload.signature)")
    header, claims = _segment(pieces[0]), _segment(pieces[1])
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise JWSRejected("the JWS header and payload must be JSON objects")
    return header, claims


def check_header(header: dict[str, Any], *, typ: str | None, key_header: str | None = None) -> None:
    # The descriptions never quote the header's values: they are the sender's, of any length and
    # any characters, and the descriptions travel in WWW-Authenticate.
    alg = header.get("alg")
    if alg != ALGORITHM:
        named = f"alg {alg!r}" if isinstance(alg, str) and alg in NAMED_ALGORITHMS else "this alg"
        raise JWSRejected(f"{named} is not accepted; only {ALGORITHM}")
    if "crit" in header:
        raise JWSRejected("a crit header names extensions the hub does not understand")
    carried = sorted(KEY_HEADERS.intersection(header) - {key_header})
    if carried:
        raise JWSRejected(f"header keys are not accepted here: {', '.join(carried)}")
    if typ is not None and normal_typ(header.get("typ")) != typ:
        raise JWSRejected(f"typ must be {typ!r}")


def normal_typ(value: Any) -> str | None:
    """RFC 7515 4.1.9: ``application/`` may be omitted; media types compare case-insensitively."""
    if not isinstance(value, str):
        return None
    lowered = value.lower()
    return lowered.removeprefix("application/")


def verify(token: str, jwk: dict[str, Any]) -> None:
    """Check the ES256 signature with the given public JWK (header rules must already have passed;
    the algorithm is checked once more here, as what the signature is checked with).

    RFC 7515 5.2 over the signing input as received, RFC 7518 3.4: the signature is R and S, 32
    bytes each, verified by ``cryptography`` (joserfc's own path parsed the header and payload
    again for it: about 40 us of the 130 a DPoP proof's signature took).
    """
    if not isinstance(token, str) or len(token) > MAX_COMPACT or not _COMPACT.fullmatch(token):
        raise JWSRejected("not a compact JWS (header.payload.signature)")
    signing_input, _, encoded = token.rpartition(".")
    header = signing_input.partition(".")[0]
    decoded = _segment(header)
    if not isinstance(decoded, dict) or decoded.get("alg") != ALGORITHM:
        raise JWSRejected(f"only {ALGORITHM} signatures are checked")
    signature = _unpadded(encoded)
    if len(signature) != 64:
        raise JWSRejected("the signature does not verify (not an ES256 signature)")
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    try:
        _imported(jwk).verify(encode_dss_signature(r, s), signing_input.encode("ascii"), _ES256)
    except (InvalidSignature, UnicodeEncodeError):
        raise JWSRejected("the signature does not verify (InvalidSignature)") from None


def _unpadded(encoded: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (ValueError, binascii.Error):
        return b""


def _imported(jwk: dict[str, Any]) -> ec.EllipticCurvePublicKey:
    """The JWK as a key object, imported once per key: every request's proof is signed by one of a few
    client keys, and the hub's tokens by one of its own (the import checks the point, ~30 us)."""
    try:
        members = tuple(sorted(jwk.items()))  # every member, as given: the same JWK, the same key object
        key = _KEYS.get(members)
    except TypeError:  # a member that is not a string or number (key_ops ...): imported each time
        return _public_key(jwk)
    if key is None:
        key = _public_key(jwk)  # raises on a key that is not one: nothing kept
        if len(_KEYS) >= KEYS_KEPT:
            _KEYS.clear()
        _KEYS[members] = key
    return key


def _public_key(jwk: dict[str, Any]) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from its JWK (RFC 7518 6.2.1), its point checked to lie on the curve."""
    if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise JWSRejected("the key is not an EC P-256 key")
    x, y = jwk.get("x"), jwk.get("y")
    if not isinstance(x, str) or not isinstance(y, str) or not _BASE64URL.fullmatch(x + y):
        raise JWSRejected("the key's coordinates are not base64url")
    xb, yb = _unpadded(x), _unpadded(y)
    if len(xb) != 32 or len(yb) != 32:
        raise JWSRejected("the key's coordinates are not 32 bytes each")
    try:
        return ec.EllipticCurvePublicNumbers(int.from_bytes(xb, "big"), int.from_bytes(yb, "big"),
                                             ec.SECP256R1()).public_key()
    except ValueError:
        raise JWSRejected("the key's point is not on the P-256 curve") from None


def sign(header: dict[str, Any], claims: dict[str, Any], key: ECKey) -> str:
    payload = json.dumps(claims, separators=(",", ":")).encode()
    return jws.serialize_compact({**header, "alg": ALGORITHM}, payload, key, algorithms=[ALGORITHM])
