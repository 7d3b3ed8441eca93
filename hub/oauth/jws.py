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
import json
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

ALGORITHM = "ES256"
# The longest compact JWS the hub reads (access tokens, DPoP proofs, client assertions are all far
# shorter): a bound on the work any token makes before its signature is checked.
MAX_COMPACT = 8192
# Public keys imported, by their members (``_imported``); a cache of what the import computes alone.
KEYS_KEPT = 1024
_KEYS: dict[tuple[Any, ...], ECKey] = {}
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
    """Check the signature with the given public JWK (header rules must already have passed)."""
    try:
        jws.deserialize_compact(token, _imported(jwk), algorithms=[ALGORITHM])
    except (JoseError, ValueError, TypeError, RecursionError) as exc:
        raise JWSRejected(f"the signature does not verify ({exc.__class__.__name__})") from None


def _imported(jwk: dict[str, Any]) -> ECKey:
    """The JWK as a key object, imported once per key: every request's proof is signed by one of a few
    client keys, and the hub's tokens by one of its own (the import checks the point, ~30 us)."""
    try:
        members = tuple(sorted(jwk.items()))  # every member, as given: the same JWK, the same key object
        key = _KEYS.get(members)
    except TypeError:  # a member that is not a string or number (key_ops ...): imported each time
        return ECKey.import_key(jwk)
    if key is None:
        key = ECKey.import_key(jwk)  # raises on a key that is not one: nothing kept
        if len(_KEYS) >= KEYS_KEPT:
            _KEYS.clear()
        _KEYS[members] = key
    return key


def sign(header: dict[str, Any], claims: dict[str, Any], key: ECKey) -> str:
    payload = json.dumps(claims, separators=(",", ":")).encode()
    return jws.serialize_compact({**header, "alg": ALGORITHM}, payload, key, algorithms=[ALGORITHM])
