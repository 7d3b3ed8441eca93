"""The registry's changes, one service for the console and ``hub registry`` alike: departments,
their clients, the clients' keys, statuses and limits.

The registry is the operator's: anyone else gets ``Forbidden`` before anything is read. Input is
checked here (``hub.registry.checks``) and by the registry (names, jurisdictions, public P-256
keys), each refusal a ``RegistryError``, a name or key taken a ``Conflict``, the department,
client or key a change is made to ``NotFound`` when it is not there. Every change writes
its admin-log entry, in the actor's name, in the change's own transaction (``hub.store.admin_log``):
a change is never made without its entry, and an entry that cannot be written undoes the change.
"""

from __future__ import annotations

from typing import Any

from hub.errors import Forbidden
from hub.fairuse.limits import ClientLimits
from hub.grants import Actor
from hub.registry import entries
from hub.registry.checks import status_value, text
from hub.store import ClientRecord, DepartmentRecord, Registry
from hub.store.admin_log import Entry, Noted, noting


class RegistryService:
    """``why`` goes on every entry this service writes (the CLI names itself: ``hub registry``)."""

    def __init__(self, registry: Registry, *, why: str | None = None) -> None:
        self.registry = registry
        self.why = why

    async def add_department(self, actor: Actor, name: Any, title: Any, jurisdiction: Any = "") -> DepartmentRecord:
        """``jurisdiction``: a GB/T 2260 prefix its clients' row filters hold to ("" the whole city)."""
        noted = self._noted(actor, entries.department_registered)
        return await self.registry.add_department(
            text(name, "name", limit=40), text(title, "title"),
            text(jurisdiction, "jurisdiction", limit=12, required=False), noted=noted,
        )

    async def set_department_status(self, actor: Actor, name: str, status: Any) -> DepartmentRecord:
        """Disabling a department blocks every client of it; their tokens die."""
        noted = self._noted(actor, entries.department_status_set)
        return await self.registry.set_department_status(name, status_value(status), noted=noted)

    async def register_client(self, actor: Actor, department: Any, name: Any, jwk: dict[str, Any]) -> ClientRecord:
        """A new client reads nothing until it is granted scopes (``hub.grants``)."""
        noted = self._noted(actor, entries.client_registered)
        return await self.registry.register_client(
            text(department, "department", limit=40), text(name, "name"), jwk, noted=noted
        )

    async def set_client_status(self, actor: Actor, client_id: str, status: Any) -> ClientRecord:
        noted = self._noted(actor, entries.client_status_set)
        return await self.registry.set_status(client_id, status_value(status), noted=noted)

    async def set_limits(self, actor: Actor, client_id: str, limits: ClientLimits | None) -> ClientRecord:
        """The client's own rate limit and cost budgets; None puts it back on the settings' defaults."""
        noted = self._noted(actor, entries.limits_set)
        return await self.registry.set_limits(client_id, limits, noted=noted)

    async def add_key(self, actor: Actor, client_id: str, jwk: dict[str, Any]) -> ClientRecord:
        """Rotation: add the new key, and once the system signs with it remove the old one."""
        noted = self._noted(actor, entries.key_added(client_id))
        return await self.registry.add_key(client_id, jwk, noted=noted)

    async def remove_key(self, actor: Actor, client_id: str, kid: Any) -> ClientRecord:
        noted = self._noted(actor, entries.key_removed(client_id))
        return await self.registry.remove_key(client_id, text(kid, "kid", limit=100), noted=noted)

    def _noted(self, actor: Actor, entry: Entry) -> Noted:
        may_change(actor)
        return noting(actor.username, actor.role, entry, why=self.why)


def may_change(actor: Actor) -> None:
    if actor.role != "operator":
        of = f" of {actor.department}" if actor.department else ""
        raise Forbidden(
            f"{actor.username} ({actor.role}{of}) may not change the registry: only the operator may"
        )
