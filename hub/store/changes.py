"""The registry's change counter, and when a client's grants next start or end.

``registry_changes.generation`` is bumped by triggers (migration 0016) on every write to the tables
token validation reads: departments, clients, grants, revoked tokens, signing keys. A reader that
saw the same generation before a read and after it knows nothing it read has changed since; time
is the one other thing that changes a client's grants, so a client's record is also good only
until its next grant starts or ends.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.store.models import GrantRow

GENERATION_SQL = "SELECT generation FROM registry_changes WHERE id = 1"
GENERATION = text(GENERATION_SQL)


async def generation(engine: AsyncEngine) -> int:
    """The counter now (raises when it cannot be read: the caller then trusts nothing it kept)."""
    async with engine.connect() as connection:
        found = (await connection.execute(GENERATION)).scalar_one()
    return int(found)


class Generation:
    """Reads the counter once per request, as cheaply as the registry allows.

    On a SQLite file (in write-ahead-log mode: a reader never waits for a writer) the one indexed
    row is read through a plain ``sqlite3`` connection of its own, on the calling thread: a few
    microseconds, where the engine's connection costs a hop to the driver's thread and back. Each
    read is its own transaction, so it sees every commit made before it, by any process. Anything
    unusual there (the file busy or locked, no row) gives up on the direct read for this request and
    reads through the engine, which waits as long as it may or raises, as ``generation`` does.
    PostgreSQL and other databases always read through the engine.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        url = engine.url
        direct = engine.dialect.name == "sqlite" and url.database not in (None, "", ":memory:")
        self._path = url.database if direct else None
        self._connection: sqlite3.Connection | None = None

    async def read(self) -> int:
        if self._path is not None:
            found = self._direct(self._path)
            if found is not None:
                return found
        return await generation(self._engine)

    def _direct(self, path: str) -> int | None:
        try:
            if self._connection is None:
                # timeout 0: never wait on the event loop's thread; isolation_level None: autocommit.
                self._connection = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
            row = self._connection.execute(GENERATION_SQL).fetchone()
        except sqlite3.Error:
            self.close()
            return None
        return None if row is None else int(row[0])

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


async def next_grant_change(engine: AsyncEngine, client_id: str, now: int) -> int | None:
    """The first instant after ``now`` at which one of the client's active grants starts or ends."""
    query = select(GrantRow.valid_from, GrantRow.valid_to).where(
        GrantRow.client_id == client_id, GrantRow.status == "active", GrantRow.valid_to > now,
    )
    async with engine.connect() as connection:
        rows = list(await connection.execute(query))
    return min((t for valid_from, valid_to in rows for t in (valid_from, valid_to) if t > now), default=None)
