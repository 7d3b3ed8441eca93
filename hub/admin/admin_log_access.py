"""The console's side of the admin actions log: each change made here is recorded (who, role, what,
target, why), and operators and auditors read the log (``admin_log_pages.py``, ``admin_log_api.py``).

A change to the registry or an account is recorded in the change's own transaction: the store's
method is handed ``noting(request, entry)``, which writes the entry the changed record makes (so
no change is made without its entry). ``record`` writes an entry of its own for an action that
changes no stored state (a developer's token).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from hub.admin.access import visitor
from hub.admin.console import console
from hub.store.admin_log import AdminAction, Entry, Noted, admin_actions, record_action
from hub.store.admin_log import noting as store_noting

READERS = ("operator", "auditor")


async def record(
    request: Request, action: str, target: str, why: str | None = None, details: dict[str, Any] | None = None
) -> None:
    who = visitor(request)
    engine = console(request).stores.registry.engine
    async with AsyncSession(engine) as session, session.begin():
        await record_action(
            session, actor=who.account.username, role=who.role, action=action, target=target, why=why,
            details=details or {},
        )


def noting(request: Request, entry: Entry, why: str | None = None) -> Noted:
    """Writes the signed-in visitor's entry, ``entry(changed) -> (action, target, details)``, in the
    change's transaction."""
    who = visitor(request)
    return store_noting(who.account.username, who.role, entry, why)


def as_json(entry: AdminAction) -> dict[str, Any]:
    return {
        "id": entry.id, "at": entry.at, "actor": entry.actor, "role": entry.role, "action": entry.action,
        "target": entry.target, "why": entry.why, "details": entry.details,
    }


async def entries(request: Request) -> list[AdminAction]:
    engine = console(request).stores.registry.engine
    query = request.query_params
    return await admin_actions(
        engine, actor=query.get("actor") or None, action=query.get("action") or None,
        target=query.get("target") or None, limit=200,
    )

