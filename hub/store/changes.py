"""The registry's change counter, and when a client's grants next start or end.

``registry_changes.generation`` is bumped by triggers (migration 0016) on every write to the tables
token validation reads: departments, clients, grants, revoked tokens, signing keys. A reader that
saw the same generation before a read and after it knows nothing it read has changed since; time
is the one other thing that changes a client's grants, so a client's record is also good only
until its next grant starts or ends.
"""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.store.models import GrantRow

GENERATION = text("SELECT generation FROM registry_changes WHERE id = 1")


async def generation(engine: AsyncEngine) -> int:
    """The counter now (raises when it cannot be read: the caller then trusts nothing it kept)."""
    async with engine.connect() as connection:
        found = (await connection.execute(GENERATION)).scalar_one()
    return int(found)


async def next_grant_change(engine: AsyncEngine, client_id: str, now: int) -> int | None:
    """The first instant after ``now`` at which one of the client's active grants starts or ends."""
    query = select(GrantRow.valid_from, GrantRow.valid_to).where(
        GrantRow.client_id == client_id, GrantRow.status == "active", GrantRow.valid_to > now,
    )
    async with engine.connect() as connection:
        rows = list(await connection.execute(query))
    return min((t for valid_from, valid_to in rows for t in (valid_from, valid_to) if t > now), default=None)
