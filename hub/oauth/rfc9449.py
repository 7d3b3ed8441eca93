"""RFC 9449 DPoP: proof-of-possession proofs, their checks, and server-provided nonces.

A proof is a JWT of ``typ: dpop+jwt`` signed with the client's DPoP key, whose public half rides
in the ``jwk`` header. Section 4.3 lists the checks; each failure is ``invalid_dpop_proof``,
except a missing or stale nonce, which is ``use_dpop_nonce`` with a fresh ``DPoP-Nonce``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hub.oauth import jws
from hub.oauth.clock import Clock
from hub.oauth.errors import InvalidDPoPProof, UseDPoPNonce
from hub.oauth.replay import IssuedBeforeEpoch, ReplayCache
from hub.oauth.rfc7638 import UnacceptableKey, public_jwk, thumbprint

PROOF_TYPE = "dpop+jwt"
MAX_AGE = 60  # seconds a proof's iat may lie in the past
SKEW = 5  # seconds it may lie in the future
# A jti is remembered for as long as its proof could still pass the iat check: a proof dated SKEW
# ahead stays acceptable SKEW + MAX_AGE seconds after its first use; 2 s more covers whole-second
# rounding of iat and now.
REPLAY_TTL = SKEW + MAX_AGE + 2
KEYS_KEPT = 1024  # proof keys whose checks are kept (``DPoPVerifier._key_of``), whoever sends them


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def access_token_hash(token: str) -> str:
    """``ath``: base64url of the SHA-256 of the ASCII access token (section 4.2)."""
    return b64(hashlib.sha256(token.encode("ascii")).digest())


class Nonces:
    """Stateless nonces every replica can check: an HMAC over the current time window."""

    def __init__(self, secret: bytes, clock: Clock, window: int = 120) -> None:
        self._secret = secret
        self._clock = clock
        self._window = window

    def _for(self, index: int) -> str:
        mac = hmac.new(self._secret, f"dpop-nonce:{index}".encode(), hashlib.sha256).digest()
        return f"{index}.{b64(mac[:18])}"

    def current(self) -> str:
        return self._for(self._clock.now() // self._window)

    def valid(self, nonce: Any) -> bool:
        index = self._clock.now() // self._window
        return isinstance(nonce, str) and any(
            hmac.compare_digest(nonce, self._for(i)) for i in (index, index - 1)
        )


@dataclass(frozen=True, slots=True)
class CheckedProof:
    jkt: str  # the thumbprint of the proof's key
    replay_key: str
    issued_at: int


class DPoPVerifier:
    def __init__(self, replay: ReplayCache, clock: Clock, nonces: Nonces | None = None) -> None:
        self._replay = replay
        self._clock = clock
        self.nonces = nonces
        self._keys: dict[tuple[Any, ...], tuple[dict[str, Any], str]] = {}

    async def verify(
        self, proofs: Sequence[str], method: str, url: str, access_token: str | None = None
    ) -> str:
        """The thumbprint of the proof's key, or raise. ``url`` is the request's htu (no query)."""
        checked = await self.check(proofs, method, url, access_token)
        await self.record(checked)
        return checked.jkt

    async def record(self, checked: CheckedProof) -> None:
        """Spend the proof's jti: the token endpoint does so only once the client is authenticated,
        so nobody can burn a client's proof with a request that fails client authentication."""
        try:
            first = await self._replay.first_use(checked.replay_key, REPLAY_TTL, checked.issued_at)
        except IssuedBeforeEpoch:
            raise InvalidDPoPProof(
                "DPoP proof: issued before the replay cache's current epoch began (it may have been used "
                "before): make a new proof"
            ) from None
        if not first:
            raise InvalidDPoPProof("DPoP proof: this jti was already used (a replayed proof)")

    async def check(
        self, proofs: Sequence[str], method: str, url: str, access_token: str | None = None
    ) -> CheckedProof:
        """Every check of section 4.3 but the replay check (``record``)."""
        if len(proofs) != 1 or "," in proofs[0]:
            raise InvalidDPoPProof(
                "exactly one DPoP proof header is required" if proofs else "a DPoP proof is required"
            )
        proof = proofs[0]
        try:
            header, claims = jws.parts(proof)
            jws.check_header(header, typ=PROOF_TYPE, key_header="jwk")
            key, jkt = self._key_of(header.get("jwk"))
            jws.verify(proof, key)
        except (jws.JWSRejected, UnacceptableKey) as exc:
            raise InvalidDPoPProof(f"DPoP proof: {exc}") from None
        self._check_claims(claims, method, url, access_token)
        return CheckedProof(jkt, f"dpop:{jkt}:{claims['jti']}", claims["iat"])

    def _key_of(self, jwk: Any) -> tuple[dict[str, Any], str]:
        """The proof's key as ``public_jwk`` accepts it, and its thumbprint: worked out once per JWK
        (a client signs every proof with the one key its token is bound to; about 30 us a proof)."""
        try:
            members = tuple(sorted(jwk.items())) if isinstance(jwk, dict) else None
            known = self._keys.get(members) if members is not None else None
        except TypeError:  # a member that is not a string or number: worked out each time
            members = known = None
        if known is None:
            key = public_jwk(jwk)  # raises on a key the hub does not accept: nothing kept
            known = key, thumbprint(key)
            if members is not None:
                if len(self._keys) >= KEYS_KEPT:
                    self._keys.clear()
                self._keys[members] = known
        return known

    def _check_claims(self, claims: dict[str, Any], method: str, url: str, access_token: str | None) -> None:
        jti, iat = claims.get("jti"), claims.get("iat")
        if not isinstance(jti, str) or not 8 <= len(jti) <= 128:
            raise InvalidDPoPProof("DPoP proof: jti must be a string of 8-128 characters")
        if claims.get("htm") != method:
            raise InvalidDPoPProof(f"DPoP proof: htm must be {method}")
        if claims.get("htu") != url:
            raise InvalidDPoPProof(f"DPoP proof: htu must be {url}")
        now = self._clock.now()
        if not isinstance(iat, int) or not now - MAX_AGE <= iat <= now + SKEW:
            raise InvalidDPoPProof(f"DPoP proof: iat must be within {MAX_AGE} s of the server's time")
        if access_token is not None and claims.get("ath") != access_token_hash(access_token):
            raise InvalidDPoPProof("DPoP proof: ath is not the hash of the access token presented")
        if self.nonces is not None and not self.nonces.valid(claims.get("nonce")):
            raise UseDPoPNonce("DPoP proof: use the nonce in DPoP-Nonce", self.nonces.current())
