"""Failed console sign-ins counted per client address, on top of each account's own lock.

An account locks after its own failures (``accounts.py``); that alone lets one address try one
password against every account (password spraying) without ever locking any. So every failed
password or second-factor code is also counted against the address it came from, in the registry
database (every replica counts the same failures, as for client assertions' ``jti``); at
``limit`` failures within ``WINDOW`` seconds the address gets no answer about any password until
its oldest failure leaves the window. A success clears nothing: one good account must not launder
an address's guesses at others.

The address is the connection's peer; behind nginx it is the browser's only when the settings name
nginx as a trusted proxy (``HUB_TRUSTED_PROXIES``, ``hub.app.forwarded_headers``): otherwise a
client could name a fresh address in ``X-Forwarded-For`` for every guess.
"""

from __future__ import annotations

import time

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from hub.accounts.tables import SignInFailureRow

WINDOW = 15 * 60
MAX_ADDRESS = 64


class AddressThrottle:
    def __init__(self, engine: AsyncEngine, limit: int) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.limit = limit

    async def wait(self, address: str, now: int | None = None) -> int:
        """Seconds until ``address`` may try again; 0 when it may now."""
        now = int(time.time()) if now is None else now
        since = now - WINDOW
        query = (
            select(SignInFailureRow.at)
            .where(SignInFailureRow.address == address[:MAX_ADDRESS], SignInFailureRow.at > since)
            .order_by(SignInFailureRow.at.desc())
            .limit(self.limit)
        )
        async with self._sessions() as session:
            recent = list(await session.scalars(query))
        if len(recent) < self.limit:
            return 0
        return max(1, recent[-1] + WINDOW - now)  # until the limit-th newest failure leaves the window

    async def failed(self, address: str, now: int | None = None) -> None:
        now = int(time.time()) if now is None else now
        async with self._sessions.begin() as session:
            await session.execute(delete(SignInFailureRow).where(SignInFailureRow.at <= now - WINDOW))
            session.add(SignInFailureRow(address=address[:MAX_ADDRESS], at=now))

    async def failures(self, address: str, now: int | None = None) -> int:
        now = int(time.time()) if now is None else now
        query = select(func.count()).where(
            SignInFailureRow.address == address[:MAX_ADDRESS], SignInFailureRow.at > now - WINDOW
        )
        async with self._sessions() as session:
            return int((await session.scalar(query)) or 0)
