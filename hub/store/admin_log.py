"""The admin actions log: who did what to which target, when and why (append-only).

Every mutating admin call (grants, registry and account changes made from the console) appends
one row in the same transaction as the change itself, so a change is never made without its
record, and a record that cannot be written undoes the change. The registry's and the accounts'
methods take a ``Noted`` for that: called with the open session and the changed record, just
before the commit.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from hub.store.models import AdminActionRow

Noted = Callable[[AsyncSession, Any], Awaitable[None]]
# What a change's entry says, made from the changed record: (action, target, details).
Entry = Callable[[Any], tuple[str, str, dict[str, Any]]]


def noting(actor: str, role: str, entry: Entry, why: str | None = None) -> Noted:
    """A ``Noted`` that writes ``actor``'s entry for the changed record in the change's transaction."""

    async def noted(session: AsyncSession, changed: Any) -> None:
        action, target, details = entry(changed)
        await record_action(
            session, actor=actor, role=role, action=action, target=target, why=why, details=details
        )

    return noted


@dataclass(frozen=True, slots=True)
class AdminAction:
    id: int
    at: int  # Unix seconds
    actor: str
    role: str
    action: str
    target: str
    why: str | None
    details: dict[str, Any]


async def record_action(
    conn_or_session: AsyncConnection | AsyncSession,
    *,
    actor: str,
    role: str,
    action: str,
    target: str,
    why: str | None,
    details: dict[str, Any],
    at: int | None = None,
) -> None:
    """Append one action inside the caller's transaction (commits or rolls back with the change)."""
    values = {
        "at": int(time.time()) if at is None else at,
        "actor": actor,
        "role": role,
        "action": action,
        "target": target,
        "why": why,
        "details": details,
    }
    await conn_or_session.execute(insert(AdminActionRow).values(**values))


async def admin_actions(
    engine: AsyncEngine,
    *,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    since: int | None = None,
    until: int | None = None,
    limit: int = 100,
) -> list[AdminAction]:
    """The newest actions first, filtered; ``since`` inclusive, ``until`` exclusive (Unix seconds)."""
    row = AdminActionRow
    query = select(row).order_by(row.id.desc()).limit(max(1, min(limit, 10_000)))
    for column, value in ((row.actor, actor), (row.action, action), (row.target, target)):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(row.at >= since)
    if until is not None:
        query = query.where(row.at < until)
    async with AsyncSession(engine) as session:
        rows = await session.scalars(query)
        return [AdminAction(r.id, r.at, r.actor, r.role, r.action, r.target, r.why, dict(r.details)) for r in rows]
