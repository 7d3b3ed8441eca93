"""Seals: signed checkpoints of the chain, ``{seq, hash, sealed_at}`` as an ES256 compact JWS.

The audit has its own signing key rather than the authorization server's: those rotate and their
retired halves are purged within minutes, while a seal must verify for as long as the log is
kept. The private half is sealed at rest under the key-encryption key (kid as associated data),
and ``verify`` opens it: a key row the hub did not make does not open, so a forger who adds a
key of their own to the table cannot make seals that pass.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from joserfc.jwk import ECKey
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.audit.tables import AuditSealKeyRow, AuditSealRow
from hub.oauth import jws
from hub.store.sealing import Sealer, SealError
from hub.store.signing_keys import new_key_pair

SEAL_TYP = "hub-audit-seal+jwt"


@dataclass(frozen=True, slots=True)
class Seal:
    seq: int
    hash: str
    sealed_at: str
    kid: str
    signature: str


async def write_seal(conn: AsyncConnection, sealer: Sealer, seq: int, record_hash: str, at: str) -> Seal:
    """Sign ``(seq, hash)`` with the audit key (made on first use) and add the seal row."""
    kid, key = await _signing_key(conn, sealer)
    claims = {"seq": seq, "hash": record_hash, "sealed_at": at}
    seal = Seal(seq, record_hash, at, kid, jws.sign({"typ": SEAL_TYP, "kid": kid}, claims, key))
    await conn.execute(
        insert(AuditSealRow).values(
            seq=seq, hash=record_hash, sealed_at=at, kid=kid, signature=seal.signature
        )
    )
    return seal


async def _signing_key(conn: AsyncConnection, sealer: Sealer) -> tuple[str, ECKey]:
    row = (await conn.execute(select(AuditSealKeyRow).order_by(AuditSealKeyRow.created_at.desc()))).first()
    if row is None:
        jwk, der = new_key_pair()
        sealed = sealer.seal(der, _context(jwk["kid"]))
        await conn.execute(
            insert(AuditSealKeyRow).values(
                kid=jwk["kid"], public_jwk=jwk, sealed_private_key=sealed, created_at=int(time.time())
            )
        )
        return jwk["kid"], _import(der)
    return row.kid, _import(sealer.open(row.sealed_private_key, _context(row.kid)))


def _context(kid: str) -> str:
    return f"audit-seal:{kid}"


def _import(der: bytes) -> ECKey:
    pem = serialization.load_der_private_key(der, None).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return ECKey.import_key(pem)


async def trusted_keys(conn: AsyncConnection, sealer: Sealer) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The seal keys whose private half opens under this hub's key and matches the public half;
    and the kids of any that do not (keys the hub did not make)."""
    trusted: dict[str, dict[str, Any]] = {}
    forged: list[str] = []
    for row in await conn.execute(select(AuditSealKeyRow)):
        try:
            private = _import(sealer.open(row.sealed_private_key, _context(row.kid)))
        except SealError:
            forged.append(row.kid)
            continue
        public = private.as_dict(private=False)
        if (public["x"], public["y"]) != (row.public_jwk.get("x"), row.public_jwk.get("y")):
            forged.append(row.kid)
            continue
        trusted[row.kid] = row.public_jwk
    return trusted, forged


def check_seal(seal: Seal, keys: dict[str, dict[str, Any]]) -> str | None:
    """Why the seal does not hold (signature, key or claims), or None when it does."""
    key = keys.get(seal.kid)
    if key is None:
        return f"signed with {seal.kid!r}, not a seal key of this hub"
    try:
        header, claims = jws.parts(seal.signature)
        jws.check_header(header, typ=SEAL_TYP)
        jws.verify(seal.signature, key)
    except jws.JWSRejected as exc:
        return f"signature rejected: {exc}"
    if claims != {"seq": seal.seq, "hash": seal.hash, "sealed_at": seal.sealed_at}:
        return "the signed seq, hash or time differ from the seal row"
    return None


async def seals(conn: AsyncConnection) -> list[Seal]:
    rows = await conn.execute(select(AuditSealRow).order_by(AuditSealRow.seq, AuditSealRow.id))
    return [Seal(r.seq, r.hash, r.sealed_at, r.kid, r.signature) for r in rows]
