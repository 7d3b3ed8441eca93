"""The audit sink: appends disclosures to the chain in SQL, safely from several hub processes.

Every append takes the chain's one lock for its transaction, reads the head (last seq and hash),
inserts the record and its subject index rows, and moves the head, so two replicas never fork
the chain or reuse a seq. On PostgreSQL the lock is ``SELECT ... FOR UPDATE`` on the head row
(read committed: the waiter then reads the winner's head); on SQLite it is ``BEGIN IMMEDIATE``,
which takes the database's write lock before the first read. An append that fails raises
``AuditWriteFailed``: the request path fails closed on it (DESIGN rule 6).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from sqlalchemy import Select, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.audit.chain import AuditKeys, link
from hub.audit.records import Disclosure, Pseudonyms, canonical, now_iso
from hub.audit.seals import Seal, write_seal
from hub.audit.tables import AuditHeadRow, AuditRecordRow, AuditSubjectRow
from hub.store.sealing import SealError

HEAD_ID = 1


class AuditWriteFailed(RuntimeError):
    """The disclosure is not on record; whatever it describes must not be returned."""


class AuditSink(Protocol):
    """Where the request path records each disclosure (DESIGN "Request path", audit).

    ``append`` returns the record's seq once it is durably in the chain, or raises.
    """

    async def append(self, disclosure: Disclosure) -> int: ...


class AuditStore:
    """The SQL ``AuditSink`` (SQLite or PostgreSQL, migrated by ``hub.store.migrate``)."""

    def __init__(self, engine: AsyncEngine, keys: AuditKeys, *, seal_every: int | None = None) -> None:
        if seal_every is not None and seal_every < 1:
            raise ValueError("seal_every must be at least 1")
        self.engine = engine
        self.keys = keys
        self.pseudonyms = Pseudonyms(keys.subject)
        self.seal_every = seal_every

    @property
    def sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    async def append(self, disclosure: Disclosure) -> int:
        try:
            async with self.locked() as conn:
                seq = await self._append(conn, disclosure)
                if self.seal_every is not None and seq % self.seal_every == 0:
                    await self._seal(conn)
                return seq
        except (SQLAlchemyError, OSError, SealError) as exc:
            raise AuditWriteFailed(f"disclosure {disclosure.request_id} not recorded: {exc}") from exc

    async def seal(self) -> Seal | None:
        """Seal the latest record now (``hub audit seal``); None while the log is empty."""
        async with self.locked() as conn:
            return await self._seal(conn)

    async def _append(self, conn: AsyncConnection, disclosure: Disclosure) -> int:
        head = (await conn.execute(self._head_query())).one()
        seq, record_hash = head.seq + 1, link(head.hash, canonical(disclosure))
        values = disclosure.as_dict()
        await conn.execute(
            insert(AuditRecordRow).values(
                seq=seq, prev_hash=head.hash, hash=record_hash, mac=self.keys.row_mac(record_hash), **values
            )
        )
        subjects = sorted({s["subject"] for s in values["subjects"]})
        if subjects:
            await conn.execute(insert(AuditSubjectRow), [{"seq": seq, "subject": s} for s in subjects])
        await conn.execute(
            update(AuditHeadRow)
            .where(AuditHeadRow.id == HEAD_ID)
            .values(seq=seq, hash=record_hash, mac=self.keys.head_mac(seq, record_hash))
        )
        return seq

    async def _seal(self, conn: AsyncConnection) -> Seal | None:
        head = (await conn.execute(self._head_query())).one()
        if head.seq == 0:
            return None
        return await write_seal(conn, self.keys.sealer, head.seq, head.hash, now_iso())

    def _head_query(self) -> Select[Any]:  # (seq, hash), locked on PostgreSQL
        query = select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == HEAD_ID)
        return query if self.sqlite else query.with_for_update()

    @asynccontextmanager
    async def locked(self) -> AsyncIterator[AsyncConnection]:
        """A transaction holding the chain's lock (committed on success, rolled back on error)."""
        if not self.sqlite:
            async with self.engine.begin() as conn:
                yield conn
            return
        async with self.engine.connect() as conn:
            # The driver's own transaction handling off, so ours is the BEGIN that counts.
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                await conn.exec_driver_sql("ROLLBACK")
                raise
            await conn.exec_driver_sql("COMMIT")
