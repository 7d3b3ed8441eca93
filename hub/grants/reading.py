"""Reading grants, requests and the admin log: by client, by department as owner or consumer,
those due for recertification. Reads take no actor: what a page shows is the console's choice."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from hub.errors import NotFound
from hub.grants.model import Grant, GrantRequest
from hub.grants.records import grant_of, request_of
from hub.oauth.clock import Clock
from hub.store.admin_log import AdminAction, admin_actions
from hub.store.grants import DAY
from hub.store.models import Client, GrantRequestRow, GrantRow

Side = Literal["owner", "consumer"]


class GrantReading:
    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self._reads = async_sessionmaker(engine, expire_on_commit=False)

    def now(self) -> int:
        return self.clock.now()

    async def grant(self, grant_id: str) -> Grant:
        found = await self._grants(_grants().where(GrantRow.grant_id == grant_id))
        if not found:
            raise NotFound(f"no grant {grant_id!r}")
        return found[0]

    async def grants(
        self,
        *,
        client_id: str | None = None,
        department: str | None = None,
        side: Side = "consumer",
        active_only: bool = False,
    ) -> list[Grant]:
        """Grants of a client, or of a department as the data owner or as the consumer."""
        query = _grants()
        if client_id is not None:
            query = query.where(GrantRow.client_id == client_id)
        if department is not None:
            column = GrantRow.owner_department if side == "owner" else Client.department
            query = query.where(column == department)
        if active_only:
            query = query.where(GrantRow.status == "active")
        return await self._grants(query)

    async def due_for_recertification(self, within_days: int = 30, *, department: str | None = None) -> list[Grant]:
        """Active grants ending within ``within_days`` or already ended (optionally of one owner)."""
        query = _grants().where(GrantRow.status == "active", GrantRow.valid_to <= self.now() + within_days * DAY)
        if department is not None:
            query = query.where(GrantRow.owner_department == department)
        return await self._grants(query.order_by(None).order_by(GrantRow.valid_to))

    async def requests(
        self,
        *,
        client_id: str | None = None,
        department: str | None = None,
        side: Side = "consumer",
        status: str | None = None,
        request_id: str | None = None,
    ) -> list[GrantRequest]:
        """Requests with their deadline and ``overdue`` flag, for the requester and the owner alike."""
        row = GrantRequestRow
        query = select(row, GrantRow.grant_id).outerjoin(GrantRow, GrantRow.request_id == row.request_id)
        if request_id is not None:
            query = query.where(row.request_id == request_id)
        if client_id is not None:
            query = query.where(row.client_id == client_id)
        if department is not None:
            query = query.where((row.owner_department if side == "owner" else row.consumer_department) == department)
        if status is not None:
            query = query.where(row.status == status)
        now = self.now()
        async with self._reads() as session:
            found = await session.execute(query.order_by(row.created_at, row.request_id))
            return [request_of(request, now, grant_id) for request, grant_id in found]

    async def request_record(self, request_id: str) -> GrantRequest:
        found = await self.requests(request_id=request_id)
        if not found:
            raise NotFound(f"no grant request {request_id!r}")
        return found[0]

    async def admin_log(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        target: str | None = None,
        since: int | None = None,
        until: int | None = None,
        limit: int = 100,
    ) -> list[AdminAction]:
        return await admin_actions(
            self.engine, actor=actor, action=action, target=target, since=since, until=until, limit=limit
        )

    async def _grants(self, query: Select[GrantRow, str]) -> list[Grant]:
        async with self._reads() as session:
            return [grant_of(row, consumer) for row, consumer in await session.execute(query)]


def _grants() -> Select[GrantRow, str]:
    return (
        select(GrantRow, Client.department)
        .join(Client, GrantRow.client_id == Client.client_id)
        .order_by(GrantRow.created_at, GrantRow.grant_id)
    )
