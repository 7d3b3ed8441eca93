"""The grant workflow as the console sees it, shared by the pages and the admin API: the service for
this hub, the ids a path may name, and what each visitor may read.

The service decides who may change what (``hub.grants``); reading is the console's choice: the
operator and auditors read every grant and request, a steward those of their own department as
the data owner or as the consumer, a developer none (``READERS`` leaves them out).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from hub.admin.access import Visitor, act_for_department
from hub.admin.console import console
from hub.grants import Grant, GrantRequest, GrantService
from hub.grants.reading import Side

READERS = ("operator", "steward", "auditor")
CHANGERS = ("operator", "steward")
RECERTIFY_WITHIN_DAYS = 30  # a grant ending this soon is flagged "recertify soon"
SIDES: tuple[Side, ...] = ("owner", "consumer")


async def grant_service(request: Request) -> GrantService:
    """The console's grant service (``Console.grants``)."""
    return console(request).grants


def readable_department(who: Visitor, asked: str | None) -> str | None:
    """The department whose grants this visitor reads: a steward always their own."""
    if who.role == "steward":
        department = who.account.department or ""
        act_for_department(who, asked or department)
        return department
    return asked or None


@dataclass(frozen=True, slots=True)
class Desk:
    """One department's grant work, or everything when ``department`` is None (operator, auditor)."""

    department: str | None
    inbox: list[GrantRequest]  # pending requests the owner answers
    asked: list[GrantRequest]  # requests made for the department's clients
    owned: list[Grant]  # grants of the department's data
    held: list[Grant]  # grants the department's clients hold


async def desk(service: GrantService, department: str | None) -> Desk:
    if department is None:
        every = await service.grants()
        return Desk(None, await service.requests(status="pending"), await service.requests(), every, every)
    return Desk(
        department,
        await service.requests(department=department, side="owner", status="pending"),
        await service.requests(department=department, side="consumer"),
        await service.grants(department=department, side="owner"),
        await service.grants(department=department, side="consumer"),
    )


async def visible_grants(
    service: GrantService, department: str | None, side: Side | None, client_id: str | None
) -> list[Grant]:
    """Grants of a department on one side or both, optionally of one client; all when no department."""
    if department is None:
        return await service.grants(client_id=client_id)
    found: dict[str, Grant] = {}
    for each in (side,) if side else SIDES:
        for grant in await service.grants(client_id=client_id, department=department, side=each):
            found[grant.grant_id] = grant
    return sorted(found.values(), key=lambda g: (g.created_at, g.grant_id))


async def visible_requests(
    service: GrantService, department: str | None, side: Side | None, status: str | None
) -> list[GrantRequest]:
    if department is None:
        return await service.requests(status=status)
    found: dict[str, GrantRequest] = {}
    for each in (side,) if side else SIDES:
        for asked in await service.requests(department=department, side=each, status=status):
            found[asked.request_id] = asked
    return sorted(found.values(), key=lambda r: (r.created_at, r.request_id))

