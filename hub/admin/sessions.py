"""Server-side sign-in sessions: the browser holds a random token, the database only its SHA-256.

A session ends after ``idle`` seconds without a request or ``absolute`` seconds after sign-in,
whichever comes first. Each sign-in step opens a new session and closes the one presented
(rotation: a token fixed before sign-in is worth nothing after it). Each session has its own
CSRF token.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from hub.accounts.tables import SessionRow

FULL = "full"
SECOND_FACTOR_DUE = "totp"


@dataclass(frozen=True, slots=True)
class SignedIn:
    username: str
    stage: str
    csrf_token: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Sessions:
    def __init__(self, engine: AsyncEngine, *, idle: int, absolute: int) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.idle, self.absolute = idle, absolute

    async def open(self, username: str, stage: str, replacing: str | None = None) -> tuple[str, SignedIn]:
        """A new session (its token for the cookie); the session presented so far, if any, ends."""
        token, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(32), int(time.time())
        async with self._sessions.begin() as session:
            if replacing is not None:
                replaced = token_hash(replacing)
                await session.execute(delete(SessionRow).where(SessionRow.token_hash == replaced))
            await session.execute(delete(SessionRow).where(SessionRow.last_seen < now - self.idle))
            session.add(SessionRow(
                token_hash=token_hash(token), username=username, stage=stage, csrf_token=csrf,
                created_at=now, last_seen=now,
            ))
        return token, SignedIn(username, stage, csrf)

    async def find(self, token: str, now: int | None = None) -> SignedIn | None:
        now = int(time.time()) if now is None else now
        async with self._sessions.begin() as session:
            row = await session.get(SessionRow, token_hash(token))
            if row is None:
                return None
            if row.last_seen + self.idle <= now or row.created_at + self.absolute <= now:
                await session.delete(row)
                return None
            row.last_seen = now
            return SignedIn(row.username, row.stage, row.csrf_token)

    async def close(self, token: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(delete(SessionRow).where(SessionRow.token_hash == token_hash(token)))

    async def close_all(self, username: str) -> None:
        """Every session of an account ends (its password changed, it was disabled)."""
        async with self._sessions.begin() as session:
            await session.execute(delete(SessionRow).where(SessionRow.username == username))
