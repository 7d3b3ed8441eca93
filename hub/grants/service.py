"""The grant workflow (docs/architecture.md: the access model, sharing classes), one service for the CLI
and the admin console alike.

A steward of the client's department (or the operator) requests scopes of one owning department
for named purposes, on a legal basis, for 1-1095 days. Unconditional scopes are granted at once
after the registry check; a request with a conditional scope waits for the owning department's
steward, who approves it or refuses it with a reason by its deadline. Grants are revoked (with a
reason), lose purposes, and are recertified for their original duration. Authorization lives
here: anyone else gets ``Forbidden``, checked before the state of the request, grant or client
(so an uninvolved steward learns nothing of it). An unknown id is ``NotFound``, a request no longer
pending or a grant no longer active a ``Conflict`` (``hub.errors``). Every change appends an admin
action in its transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.errors import Conflict, NotFound
from hub.grants.checks import (
    Catalogue, checked_days, checked_purposes, checked_quota, checked_scopes, checked_text,
)
from hub.grants.model import Actor, Forbidden, Grant, GrantError, GrantRequest
from hub.grants.reading import GrantReading
from hub.grants.records import client_row, grant_of, registry_check, request_of
from hub.oauth.clock import Clock
from hub.store.admin_log import record_action
from hub.store.grants import DAY, new_grant_id
from hub.store.models import Client, GrantRequestRow, GrantRow


class GrantService(GrantReading):
    def __init__(
        self, engine: AsyncEngine, catalogue: Catalogue, clock: Clock | None = None, *, answer_days: int = 10
    ) -> None:
        super().__init__(engine, clock or Clock())
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.catalogue = catalogue
        self.answer_days = checked_days(answer_days, "the answer deadline")

    async def request(
        self,
        actor: Actor,
        client_id: str,
        scopes: Iterable[str],
        purposes: Iterable[str],
        legal_basis: str,
        duration_days: int,
    ) -> GrantRequest:
        """A request; granted at once when every scope is unconditional, else pending for the owner."""
        _may_change(actor)
        wanted, owner, sharing = checked_scopes(self.catalogue, scopes)
        named, basis = checked_purposes(purposes), checked_text(legal_basis, "a legal basis")
        days, now = checked_days(duration_days), self.now()
        async with self._sessions.begin() as session:
            department = (await client_row(session, client_id)).department
            if not (actor.role == "operator" or actor.stewards(department)):
                raise Forbidden(
                    f"{_who(actor)} may not request grants for {client_id}: only a steward of "
                    f"{department} or the operator may"
                )
            client = await registry_check(session, client_id, owner)
            row = GrantRequestRow(
                request_id=f"r-{secrets.token_hex(8)}", client_id=client_id,
                consumer_department=client.department, owner_department=owner,
                scopes=sorted(wanted), purposes=sorted(named), legal_basis=basis, duration_days=days,
                status="pending", created_by=actor.username, created_at=now,
                deadline=now + self.answer_days * DAY,
            )
            session.add(row)
            await session.flush()
            await _record(session, actor, "grant.request", row.request_id, None, now, _asked(row))
            grant_id = None
            if sharing == "unconditional":
                grant_id = (await self._issue(session, row, actor, "granted", now)).grant_id
        return request_of(row, now, grant_id)

    async def approve(self, actor: Actor, request_id: str) -> Grant:
        """The owning department's steward (or the operator) grants a pending request."""
        _may_change(actor)
        now = self.now()
        async with self._sessions.begin() as session:
            row = await _pending(session, request_id, _owner(actor, f"approve request {request_id}"))
            checked_scopes(self.catalogue, row.scopes)  # the catalogue may have changed since
            await registry_check(session, row.client_id, row.owner_department)
            return await self._issue(session, row, actor, "approved", now)

    async def refuse(self, actor: Actor, request_id: str, reason: str) -> GrantRequest:
        """A refusal always gives its reasons (docs/architecture.md: conditional sharing)."""
        _may_change(actor)
        why, now = checked_text(reason, "a reason for the refusal"), self.now()
        async with self._sessions.begin() as session:
            row = await _pending(session, request_id, _owner(actor, f"refuse request {request_id}"))
            await self._decide(session, row, actor, "refused", why, now)
        return request_of(row, now)

    async def withdraw(self, actor: Actor, request_id: str, reason: str | None = None) -> GrantRequest:
        _may_change(actor)
        now = self.now()
        async with self._sessions.begin() as session:
            row = await _pending(session, request_id, partial(_may_withdraw, actor))
            await self._decide(session, row, actor, "withdrawn", reason, now)
        return request_of(row, now)

    async def grant_now(
        self,
        actor: Actor,
        client_id: str,
        scopes: Iterable[str],
        purposes: Iterable[str],
        legal_basis: str,
        duration_days: int,
    ) -> Grant:
        """The operator's shortcut: request and approve in one step (both on the admin log)."""
        if actor.role != "operator":
            raise Forbidden(f"{_who(actor)} may not grant directly: only the operator may")
        asked = await self.request(actor, client_id, scopes, purposes, legal_basis, duration_days)
        if asked.grant_id is None:
            return await self.approve(actor, asked.request_id)
        return await self.grant(asked.grant_id)

    async def revoke(self, actor: Actor, grant_id: str, reason: str) -> Grant:
        """Takes effect on the client's next request (the registry reads live grants per request)."""
        _may_change(actor)
        why, now = checked_text(reason, "a reason for the revocation"), self.now()
        async with self._sessions.begin() as session:
            row, consumer = await _active(session, grant_id, partial(_may_revoke, actor))
            row.status, row.revoked_at, row.revoked_by, row.revoke_reason = "revoked", now, actor.username, why
            await _record(session, actor, "grant.revoke", grant_id, why, now, {"client_id": row.client_id})
        return grant_of(row, consumer)

    async def amend(
        self, actor: Actor, grant_id: str, remove_purposes: Iterable[str], reason: str | None = None
    ) -> Grant:
        """Narrow a grant's purposes; adding one takes a new request."""
        _may_change(actor)
        removed, now = frozenset(remove_purposes), self.now()
        if not removed:
            raise GrantError("name at least one purpose to remove")
        async with self._sessions.begin() as session:
            row, consumer = await _active(session, grant_id, _owner(actor, f"amend {grant_id}"))
            unknown = sorted(removed - set(row.purposes))
            if unknown:
                raise GrantError(f"{grant_id} names no purpose {', '.join(unknown)}")
            kept = sorted(set(row.purposes) - removed)
            if not kept:
                raise GrantError(f"removing every purpose leaves nothing to grant: revoke {grant_id} instead")
            row.purposes = kept
            details = {"removed": sorted(removed), "purposes": kept}
            await _record(session, actor, "grant.amend", grant_id, reason, now, details)
        return grant_of(row, consumer)

    async def recertify(self, actor: Actor, grant_id: str) -> Grant:
        """Extend an active grant by its original duration, from its end (or from now if it has ended)."""
        _may_change(actor)
        now = self.now()
        async with self._sessions.begin() as session:
            row, consumer = await _active(session, grant_id, _owner(actor, f"recertify {grant_id}"))
            before = row.valid_to
            row.valid_to = max(before, now) + row.duration_days * DAY
            details = {"valid_to_before": before, "valid_to": row.valid_to}
            await _record(session, actor, "grant.recertify", grant_id, None, now, details)
        return grant_of(row, consumer)

    async def set_quota(
        self, actor: Actor, grant_id: str, daily_quota: int | None, reason: str | None = None
    ) -> Grant:
        """The data owner caps how many distinct subjects a day the client may be shown under each of
        the grant's scopes (None lifts the cap); it holds from the client's next request."""
        _may_change(actor)
        quota, now = checked_quota(daily_quota), self.now()
        async with self._sessions.begin() as session:
            row, consumer = await _active(session, grant_id, _owner(actor, f"set the quota of {grant_id}"))
            details = {"client_id": row.client_id, "daily_quota_before": row.daily_quota, "daily_quota": quota}
            row.daily_quota = quota
            await _record(session, actor, "grant.quota", grant_id, reason, now, details)
        return grant_of(row, consumer)

    async def _decide(
        self, session: AsyncSession, row: GrantRequestRow, actor: Actor, status: str, why: str | None, now: int
    ) -> None:
        row.status, row.decided_by, row.decided_at, row.reason = status, actor.username, now, why
        action = "grant.withdraw" if status == "withdrawn" else "grant.refuse"
        await _record(session, actor, action, row.request_id, why, now, {"client_id": row.client_id})

    async def _issue(
        self, session: AsyncSession, row: GrantRequestRow, actor: Actor, status: str, now: int
    ) -> Grant:
        """The grant a request leads to: from now for the requested duration."""
        row.status, row.decided_by, row.decided_at = status, actor.username, now
        grant = GrantRow(
            grant_id=new_grant_id(), client_id=row.client_id, owner_department=row.owner_department,
            scopes=list(row.scopes), purposes=list(row.purposes), valid_from=now,
            valid_to=now + row.duration_days * DAY, duration_days=row.duration_days,
            granted_by=actor.username, legal_basis=row.legal_basis, status="active", created_at=now,
            request_id=row.request_id,
        )
        session.add(grant)
        details = {**_asked(row), "grant_id": grant.grant_id, "valid_to": grant.valid_to}
        why = "unconditional scopes: granted after the registry check" if status == "granted" else None
        action = "grant.grant" if status == "granted" else "grant.approve"
        await _record(session, actor, action, row.request_id, why, now, details)
        return grant_of(grant, row.consumer_department)


def _may_change(actor: Actor) -> None:
    if actor.role not in ("operator", "steward"):
        raise Forbidden(f"{_who(actor)} may not change grants: the {actor.role} role is read-only here")


def _owner_only(actor: Actor, owner: str, what: str) -> None:
    if not (actor.role == "operator" or actor.stewards(owner)):
        raise Forbidden(f"{_who(actor)} may not {what}: only a steward of {owner} (the data owner) may")


def _owner(actor: Actor, what: str) -> Callable[..., None]:
    """The check that ``actor`` may do ``what`` to a request or grant row: the owner's steward's work."""
    return lambda row, *_: _owner_only(actor, row.owner_department, what)


def _may_withdraw(actor: Actor, row: GrantRequestRow) -> None:
    if not (actor.role == "operator" or actor.stewards(row.consumer_department)):
        raise Forbidden(f"{_who(actor)} may not withdraw a request of {row.consumer_department}")


def _may_revoke(actor: Actor, row: GrantRow, consumer: str) -> None:
    if not (actor.role == "operator" or actor.stewards(row.owner_department) or actor.stewards(consumer)):
        raise Forbidden(
            f"{_who(actor)} may not revoke {row.grant_id}: a steward of {row.owner_department} "
            f"or {consumer}, or the operator, may"
        )


def _who(actor: Actor) -> str:
    of = f" of {actor.department}" if actor.department else ""
    return f"{actor.username} ({actor.role}{of})"


def _asked(row: GrantRequestRow) -> dict[str, Any]:
    return {
        "client_id": row.client_id, "owner": row.owner_department, "scopes": list(row.scopes),
        "purposes": list(row.purposes), "legal_basis": row.legal_basis, "duration_days": row.duration_days,
    }


async def _record(
    session: AsyncSession, actor: Actor, action: str, target: str, why: str | None, now: int, details: dict[str, Any]
) -> None:
    await record_action(
        session, actor=actor.username, role=actor.role, action=action, target=target, why=why,
        details=details, at=now,
    )


async def _pending(
    session: AsyncSession, request_id: str, allowed: Callable[[GrantRequestRow], None]
) -> GrantRequestRow:
    """The request, locked; ``allowed`` (who may act) is checked before whether it is still pending."""
    query = select(GrantRequestRow).where(GrantRequestRow.request_id == request_id).with_for_update()
    row = await session.scalar(query)
    if row is None:
        raise NotFound(f"no grant request {request_id!r}")
    allowed(row)
    if row.status != "pending":
        raise Conflict(f"request {request_id} is {row.status}, not pending")
    return row


async def _active(
    session: AsyncSession, grant_id: str, allowed: Callable[[GrantRow, str], None]
) -> tuple[GrantRow, str]:
    """The grant, locked, and its consumer; ``allowed`` is checked before whether it is still active."""
    query = (
        select(GrantRow, Client.department)
        .join(Client, GrantRow.client_id == Client.client_id)
        .where(GrantRow.grant_id == grant_id)
        .with_for_update(of=GrantRow)
    )
    found = (await session.execute(query)).first()
    if found is None:
        raise NotFound(f"no grant {grant_id!r}")
    allowed(found[0], found[1])
    if found[0].status != "active":
        raise Conflict(f"grant {grant_id} is {found[0].status}")
    return found[0], found[1]
