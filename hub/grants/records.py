"""Rows to domain records, and the registry facts a grant decision rests on."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hub.grants.model import Grant, GrantError, GrantRequest
from hub.store.models import Client, Department, GrantRequestRow, GrantRow


def grant_of(row: GrantRow, consumer_department: str = "") -> Grant:
    return Grant(
        grant_id=row.grant_id,
        client_id=row.client_id,
        owner_department=row.owner_department,
        scopes=frozenset(row.scopes),
        purposes=frozenset(row.purposes),
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        duration_days=row.duration_days,
        granted_by=row.granted_by,
        legal_basis=row.legal_basis,
        status=row.status,
        created_at=row.created_at,
        request_id=row.request_id,
        revoked_at=row.revoked_at,
        revoked_by=row.revoked_by,
        revoke_reason=row.revoke_reason,
        consumer_department=consumer_department,
        daily_quota=row.daily_quota,
    )


def request_of(row: GrantRequestRow, now: int, grant_id: str | None = None) -> GrantRequest:
    return GrantRequest(
        request_id=row.request_id,
        client_id=row.client_id,
        consumer_department=row.consumer_department,
        owner_department=row.owner_department,
        scopes=frozenset(row.scopes),
        purposes=frozenset(row.purposes),
        legal_basis=row.legal_basis,
        duration_days=row.duration_days,
        status=row.status,
        created_by=row.created_by,
        created_at=row.created_at,
        deadline=row.deadline,
        overdue=row.status == "pending" and now > row.deadline,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        reason=row.reason,
        grant_id=grant_id,
    )


async def client_row(session: AsyncSession, client_id: str) -> Client:
    """The client a grant is asked for: a field of the request, so bad input when it is not there
    (docs/architecture.md, "The error tree")."""
    row = await session.get(Client, client_id)
    if row is None:
        raise GrantError(f"no client {client_id!r}")
    return row


async def registry_check(session: AsyncSession, client_id: str, owner: str) -> Client:
    """The client and both departments exist and are active (docs/architecture.md, "The access model":
    granted after a registry check)."""
    client = await client_row(session, client_id)
    if client.status != "active":
        raise GrantError(f"client {client_id} is disabled")
    for name in (client.department, owner):
        department: Any = await session.get(Department, name)
        if department is None:
            raise GrantError(f"department {name!r} is not registered")
        if department.status != "active":
            raise GrantError(f"department {name} is disabled")
    return client
