"""The hash chain: ``hash = sha256(prev_hash || canonical(record))``, from a genesis of zeros.

A chain alone proves order and integrity only against someone who cannot recompute it, and
anyone with the algorithm can. So each row also carries a MAC of its hash under a key derived
from the hub's key-encryption key, and the single ``head`` row (last seq and hash) carries a MAC
of its own: a row the hub did not write, an edit followed by recomputed hashes, or a tail cut
off behind a rolled-back head, all fail a MAC that only the hub can make. Seals (``seals``) add
a signature a third party can check with the public key alone.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

from hub.store.sealing import Sealer

GENESIS = "0" * 64


def link(prev_hash: str, record: bytes) -> str:
    """The hash of a record chained to the one before it (hex of SHA-256)."""
    return hashlib.sha256(prev_hash.encode("ascii") + record).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditKeys:
    """The audit's secrets, each derived from the key-encryption key for its one use."""

    subject: bytes  # keyed hash of a person's ID number (``records.Pseudonyms``)
    chain: bytes  # MAC of each row's hash and of the head
    sealer: Sealer  # opens the seal signing key
    # The row MAC's key and "row:" prefix worked out once, copied per record (only ever copied, never
    # updated, so threads may share it): a record's MAC costs 1.2 us rather than 1.9 us.
    _row: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_row", hmac.new(self.chain, b"row:", hashlib.sha256))

    @classmethod
    def from_sealer(cls, sealer: Sealer) -> AuditKeys:
        return cls(sealer.derive("audit:subject"), sealer.derive("audit:chain"), sealer)

    def row_mac(self, record_hash: str) -> str:
        keyed = self._row.copy()  # HMAC-SHA256(chain, "row:" + hash), as ``_mac`` makes it
        keyed.update(record_hash.encode("ascii"))
        return str(keyed.hexdigest())

    def head_mac(self, seq: int, record_hash: str) -> str:
        return self._mac(f"head:{seq}:{record_hash}".encode("ascii"))

    def row_mac_ok(self, record_hash: str, mac: str | None) -> bool:
        return mac is not None and hmac.compare_digest(self.row_mac(record_hash), mac)

    def head_mac_ok(self, seq: int, record_hash: str, mac: str | None) -> bool:
        return mac is not None and hmac.compare_digest(self.head_mac(seq, record_hash), mac)

    def _mac(self, message: bytes) -> str:
        return hmac.digest(self.chain, message, "sha256").hex()  # the one-shot C path: verify makes millions
