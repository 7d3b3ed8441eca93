"""Federation gateways in the registry: clients of their own kind, known by TLS client certificates.

A gateway belongs to a department like any client and reads only what its own grants hold (the
grant workflow is the same); it has no keys and gets no tokens. It is identified by the
certificates registered for it (RFC 8705 thumbprints, ``hub.oauth.rfc8705``), several while it
rotates. ``client_by_certificate`` is read on every request, never cached, so a removed
certificate, a disabled gateway or a revoked grant holds from the next request on.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.errors import Conflict, NotFound
from hub.oauth.rfc8705 import ClientCertificate
from hub.store.admin_log import Noted
from hub.store.grants import live_grants_and_quotas
from hub.store.models import Client, ClientCertificate as CertificateRow, Department
from hub.store.registry import ClientRecord, RegistryError, _note, _record, _with_department, checked_client_id

GATEWAY = "gateway"
THUMBPRINT = re.compile(r"^[A-Za-z0-9_-]{43}$")  # x5t#S256: a SHA-256 digest in base64url, unpadded


class Gateways:
    def __init__(self, engine: AsyncEngine, now: Callable[[], int] | None = None) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._now = now or (lambda: int(time.time()))

    async def register(
        self, department: str, name: str, certificate: ClientCertificate, noted: Noted | None = None
    ) -> ClientRecord:
        """A new gateway reads nothing until it is granted, like any new client."""
        async with self._sessions.begin() as session:
            if await session.get(Department, department) is None:
                raise RegistryError(f"no department {department!r}; register it first")
            row = Client(client_id=f"{department}-gw-{secrets.token_hex(6)}", department=department, name=name,
                         status="active", jwks={"keys": []}, created_at=int(time.time()), tokens_valid_after=0,
                         kind=GATEWAY)
            session.add(row)
            await session.flush()
            await self._add(session, row.client_id, certificate)
            await _note(noted, session, _record(row))
        return _record(row)

    async def add_certificate(
        self, client_id: str, certificate: ClientCertificate, noted: Noted | None = None
    ) -> ClientRecord:
        async with self._sessions.begin() as session:
            row = await _gateway_row(session, client_id)
            await self._add(session, client_id, certificate)
            await _note(noted, session, certificate.thumbprint)
        return _record(row)

    async def remove_certificate(self, client_id: str, thumbprint: str, noted: Noted | None = None) -> None:
        """Refused from the gateway's next request on (its last one too: the gateway is then shut out)."""
        if not THUMBPRINT.match(thumbprint):
            raise RegistryError(f"{thumbprint[:60]!r} is not a certificate thumbprint (43 base64url characters)")
        async with self._sessions.begin() as session:
            await _gateway_row(session, client_id)
            removed = cast(CursorResult[Any], await session.execute(delete(CertificateRow).where(
                CertificateRow.client_id == client_id, CertificateRow.thumbprint == thumbprint)))
            if removed.rowcount == 0:  # a DELETE's result is a cursor's, with its row count
                raise NotFound(f"gateway {client_id} has no certificate {thumbprint!r}")
            await _note(noted, session, thumbprint)

    async def certificates(self, client_id: str) -> list[tuple[str, str, int]]:
        """(thumbprint, subject, not_after) of each certificate registered for the gateway."""
        async with self._sessions() as session:
            rows = await session.execute(select(CertificateRow.thumbprint, CertificateRow.subject,
                                                CertificateRow.not_after).where(CertificateRow.client_id == client_id)
                                         .order_by(CertificateRow.added_at))
            return [(t, s, n) for t, s, n in rows]

    async def client_by_certificate(self, thumbprint: str) -> ClientRecord | None:
        """The gateway a live registered certificate belongs to, with its grants live now."""
        query = _with_department().join(CertificateRow, CertificateRow.client_id == Client.client_id).where(
            CertificateRow.thumbprint == thumbprint, CertificateRow.not_after > self._now(), Client.kind == GATEWAY)
        async with self._sessions() as session:
            found = (await session.execute(query)).first()
            if found is None:
                return None
            row, department = found
            grants, quotas = (await live_grants_and_quotas(session, [row.client_id], self._now()))[row.client_id]
            return _record(row, department, grants, quotas)

    async def _add(self, session: AsyncSession, client_id: str, certificate: ClientCertificate) -> None:
        if certificate.not_after <= self._now():
            raise RegistryError(f"the certificate expired at {certificate.not_after} (Unix time)")
        taken = await session.scalar(
            select(func.count()).select_from(CertificateRow).where(CertificateRow.thumbprint == certificate.thumbprint))
        if taken:
            raise Conflict(f"certificate {certificate.thumbprint} is registered already")
        session.add(CertificateRow(
            thumbprint=certificate.thumbprint, client_id=client_id, subject=certificate.subject,
            not_after=certificate.not_after, added_at=int(time.time())))


async def _gateway_row(session: AsyncSession, client_id: str) -> Client:
    row = await session.get(Client, checked_client_id(client_id))
    if row is None or row.kind != GATEWAY:
        raise NotFound(f"no gateway {client_id!r}")
    return row
