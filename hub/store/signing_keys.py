"""The authorization server's signing keys: ES256 on P-256, rotated next -> active -> retired.

The ``next`` key is published before it signs anything, so verifiers already hold it when it
becomes ``active``; a ``retired`` key stays published (and accepted) until every token it signed
has expired, then drops out. Private halves are sealed (``hub.store.sealing``) in the database.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from hub.oauth.rfc7638 import public_jwk
from hub.store.admin_log import Noted
from hub.store.models import SigningKeyRow
from hub.store.sealing import Sealer


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    state: str
    public: dict[str, Any]
    retired_at: int | None


def new_key_pair() -> tuple[dict[str, Any], bytes]:
    """A fresh P-256 key made with ``cryptography``: (public JWK with kid = thumbprint, PKCS#8 DER)."""
    private = ec.generate_private_key(ec.SECP256R1())
    der = private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    numbers = private.public_key().public_numbers()
    jwk = {"kty": "EC", "crv": "P-256", "x": _b64(numbers.x), "y": _b64(numbers.y)}
    return public_jwk(jwk), der


def _b64(value: int) -> str:
    import base64

    return base64.urlsafe_b64encode(value.to_bytes(32, "big")).rstrip(b"=").decode()


class SigningKeys:
    def __init__(self, engine: AsyncEngine, sealer: Sealer, *, retention: int) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._sealer = sealer
        self.retention = retention  # seconds a retired key still verifies: the longest token life

    async def ensure(self) -> None:
        """Make the first active and next keys if there are none (a fresh registry)."""
        async with self._sessions.begin() as session:
            states = set(await session.scalars(select(SigningKeyRow.state)))
            if "active" not in states:
                session.add(self._new_row("active"))
            if "next" not in states:
                session.add(self._new_row("next"))

    async def rotate(self, noted: Noted | None = None) -> str:
        """Retire the active key, promote the next one, make a new next; returns the new active kid.
        ``noted`` writes the rotation's admin-log entry in the same transaction."""
        now = int(time.time())
        async with self._sessions.begin() as session:
            rows = list(await session.scalars(select(SigningKeyRow).where(SigningKeyRow.state != "retired")))
            for row in rows:
                if row.state == "active":
                    row.state, row.retired_at = "retired", now
            promoted = next((r for r in rows if r.state == "next"), None) or self._add(session, "active")
            promoted.state = "active"
            self._add(session, "next")
            await self._purge(session, now)
            if noted is not None:
                await session.flush()
                await noted(session, promoted.kid)
            return promoted.kid

    async def keys(self, now: int | None = None) -> list[SigningKey]:
        """Every key still published: active, next, and retired keys whose tokens may be alive."""
        cutoff = (now if now is not None else int(time.time())) - self.retention
        async with self._sessions() as session:
            rows = await session.scalars(select(SigningKeyRow).order_by(SigningKeyRow.created_at))
            return [
                SigningKey(r.kid, r.state, r.public_jwk, r.retired_at)
                for r in rows
                if r.state != "retired" or (r.retired_at or 0) > cutoff
            ]

    async def active_private(self) -> tuple[str, ECKey]:
        async with self._sessions() as session:
            row = await session.scalar(select(SigningKeyRow).where(SigningKeyRow.state == "active"))
            if row is None:
                raise LookupError("no active signing key: run `hub registry rotate-signing-keys`")
            der = self._sealer.open(row.sealed_private_key, row.kid)
        pem = serialization.load_der_private_key(der, None).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return row.kid, ECKey.import_key(pem)

    def _new_row(self, state: str) -> SigningKeyRow:
        jwk, der = new_key_pair()
        return SigningKeyRow(
            kid=jwk["kid"],
            state=state,
            public_jwk=jwk,
            sealed_private_key=self._sealer.seal(der, jwk["kid"]),
            created_at=int(time.time()),
            retired_at=None,
        )

    def _add(self, session: Any, state: str) -> SigningKeyRow:
        row = self._new_row(state)
        session.add(row)
        return row

    async def _purge(self, session: Any, now: int) -> None:
        expired = await session.scalars(
            select(SigningKeyRow).where(
                SigningKeyRow.state == "retired", SigningKeyRow.retired_at < now - self.retention
            )
        )
        for row in expired:
            await session.delete(row)


def retention_for(access_token_minutes: int) -> int:
    """A retired key verifies for the longest token lifetime plus a minute of clock skew."""
    return access_token_minutes * 60 + 60
