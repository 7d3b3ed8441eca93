"""The grant domain: who acts (``Actor``), what a client holds (``Grant``), what it asked for
(``GrantRequest``), and its refusals, kinds of ``hub.errors``: ``GrantError`` (bad input)
and ``Forbidden`` (an actor who may not do this)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hub import errors

Role = Literal["operator", "steward", "auditor", "developer"]
ROLES: tuple[Role, ...] = ("operator", "steward", "auditor", "developer")
Sharing = Literal["unconditional", "conditional"]


class GrantError(errors.BadInput):
    """A grant change that cannot be made as asked (bad input): 400."""


class Forbidden(errors.Forbidden):
    """The actor may not make this change (another department's data, a read-only role): 403."""


@dataclass(frozen=True, slots=True)
class Actor:
    """A person at the console or the CLI. A steward acts for one department only."""

    username: str
    role: Role
    department: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise GrantError(f"role must be one of {', '.join(ROLES)}")
        if self.role == "steward" and not self.department:
            raise GrantError("a steward acts for a department; name it")

    def stewards(self, department: str) -> bool:
        return self.role == "steward" and self.department == department


@dataclass(frozen=True, slots=True)
class Grant:
    grant_id: str
    client_id: str
    owner_department: str
    scopes: frozenset[str]
    purposes: frozenset[str]
    valid_from: int  # Unix seconds
    valid_to: int  # exclusive
    duration_days: int
    granted_by: str
    legal_basis: str
    status: str  # active | revoked
    created_at: int
    request_id: str | None = None
    revoked_at: int | None = None
    revoked_by: str | None = None
    revoke_reason: str | None = None
    consumer_department: str = ""
    daily_quota: int | None = None  # distinct subjects a day under each scope (None: no quota)

    def live_at(self, now: int) -> bool:
        return self.status == "active" and self.valid_from <= now < self.valid_to

    def due_at(self, now: int, within_days: int) -> bool:
        """Active and ending within ``within_days`` (or already ended): time to recertify."""
        return self.status == "active" and self.valid_to <= now + within_days * 86_400


@dataclass(frozen=True, slots=True)
class GrantRequest:
    request_id: str
    client_id: str
    consumer_department: str
    owner_department: str
    scopes: frozenset[str]
    purposes: frozenset[str]
    legal_basis: str
    duration_days: int
    status: str  # pending | approved | refused | withdrawn | granted
    created_by: str
    created_at: int
    deadline: int  # the owning department answers by then
    overdue: bool  # pending past its deadline, as read
    decided_by: str | None = None
    decided_at: int | None = None
    reason: str | None = None
    grant_id: str | None = None  # the grant it led to, if any
