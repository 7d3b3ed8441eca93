"""The audit sink: appends disclosures to the chain in SQL, in groups, safely from several hub processes.

Concurrent requests' records are appended together (``groups.GroupCommit``): one transaction takes
the chain's one lock, reads the head (last seq and hash), takes as its group every record waiting
then (those handed in while it waited for the lock included), inserts them in bulk
(with its subject keys on PostgreSQL; see below), moves the head and commits (on PostgreSQL the
records, the head and the usage counts are one statement: the lock is held across three round
trips, the head's read, that statement and the commit): one lock acquisition and one durable
flush for the whole group, the records chained in the order they arrived. Each request still waits
for its own record to be durable before its answer leaves; when a group cannot be written every
request in it gets ``AuditWriteFailed`` and fails closed (docs/architecture.md, rule 6).

Why one chain with the head locked once per group, rather than one chain per writer joined by seals:
the log stays one total order (seq), which is what auditors page through and what ``verify``, the
console and who-accessed read, and a deleted record is always a gap somewhere a seal or the head can
see. The lock is the cost, so it is held as briefly as the group's own writes take and never across
a request: the records' JSON and their subject keys are computed before it is taken; inside it only
the chain's hashes and MACs are. On PostgreSQL (``SELECT ... FOR UPDATE`` on the head row, read
committed) a writer that stops mid-group (a paused or partitioned replica) is cut off by the server
after ``stall_timeout`` idle in its transaction, which rolls its group back and frees the lock, and
no writer waits on the lock longer than ``lock_timeout``: a stalled replica holds up the others for
at most ``stall_timeout``, and only by the time its one group takes. On SQLite (one machine) the lock
is ``BEGIN IMMEDIATE``, which takes the database's write lock before the first read.

The subject index is never a row per subject in the request's transaction. On PostgreSQL each record
row carries its subjects' keys as a ``bigint[]`` under a GIN index (new entries go to GIN's pending
list, merged in bulk): one row per record. On an SQLite file the records commit alone and
``audit_subjects`` (a row per subject per block of records) is written in batches afterwards
(``sqlite_writer``; after ``INDEX_EVERY`` records or ``INDEX_IDLE`` seconds), complete through
``audit_index.seq``; who-accessed reads the records past
that mark directly, so it misses nothing in between, and a crash only leaves more for the next batch.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Select, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.audit.chain import AuditKeys, link
from hub.audit.groups import Committed, GroupCommit, GroupFailed, Take
from hub.audit.records import Disclosure, Pseudonyms, canonical_json_v2, now_iso, references, subject_key
from hub.audit.seals import Seal, write_seal
from hub.audit.sqlite_writer import SQLiteGroupWriter
from hub.audit.tables import AuditHeadRow, AuditIndexRow, AuditRecordRow, AuditSealRow, AuditUsageRow, block_of
from hub.store.sealing import SealError

log = logging.getLogger(__name__)

HEAD_ID = 1
# A writer idle in its transaction longer than this is a stalled replica: the server ends its session.
STALL_BOUNDS = text(
    "SELECT set_config('idle_in_transaction_session_timeout', :idle, true), set_config('lock_timeout', :lock, true)"
)
# SQLite in memory, in the group: a row per subject per block (``tables.block_of``), as the batches write it.
INDEX_ROWS = "INSERT OR IGNORE INTO audit_subjects (subject_key, block) VALUES (?, ?)"
# Columns only a gateway's request fills: every row of a group names them, so one statement inserts all.
UNDECLARED: dict[str, Any] = {"gateway": None, "origin_client": None, "origin_proven": None}
MAX_GROUP = 256  # records in one transaction: beyond this a group's own writes hold the lock too long
INDEX_EVERY = 256  # SQLite file: records appended before their subjects are indexed in one batch
INDEX_IDLE = 1.0  # seconds after the first unindexed append: the rest is indexed then, however few
INDEX_BATCH = 512  # records one indexing transaction covers at most


class AuditWriteFailed(RuntimeError):
    """The disclosure is not on record; whatever it describes must not be returned."""


@dataclass(frozen=True, slots=True)
class Chained:
    """A group's rows, chained: records, subject index rows (SQLite in memory only), usage counts, the
    new head's MAC."""

    records: list[dict[str, Any]]
    index: list[tuple[int, int]]
    usage: list[tuple[str, str, str, int, int]]
    head_mac: str


@dataclass(frozen=True, slots=True)
class Pending:
    """A record ready to be chained: everything but its seq, prev_hash, hash and MAC. ``keys`` are its
    subjects' index keys, sorted, or None where the index is written after the commit (SQLite file)."""

    values: dict[str, Any]
    canonical: bytes
    keys: tuple[int, ...] | None
    subjects: int

    @classmethod
    def of(cls, disclosure: Disclosure, *, keyed: bool = True) -> Pending:
        values = disclosure.stored()
        named = references(values["subjects"], values["layout"])
        keys = tuple(sorted({subject_key(ref) for ref in named})) if keyed else None
        return cls(values, canonical_json_v2(values), keys, len(named))


class AuditSink(Protocol):
    """Where the request path records each disclosure (docs/architecture.md, "The audit").

    ``append`` returns the record's seq once it is durably in the chain, or raises.
    """

    async def append(self, disclosure: Disclosure) -> int: ...


class AuditStore:
    """The SQL ``AuditSink`` (SQLite or PostgreSQL, migrated by ``hub.store.migrate``)."""

    def __init__(
        self,
        engine: AsyncEngine,
        keys: AuditKeys,
        *,
        seal_every: int | None = None,
        stall_timeout: float = 2.0,
        write_timeout: float = 10.0,
        max_group: int = MAX_GROUP,
    ) -> None:
        if seal_every is not None and seal_every < 1:
            raise ValueError("seal_every must be at least 1")
        if not 0 < stall_timeout < write_timeout:
            raise ValueError("stall_timeout must be positive and below write_timeout")
        self.engine = engine
        self.keys = keys
        self.pseudonyms = Pseudonyms(keys.subject)
        self.seal_every = seal_every
        self.stall_timeout = stall_timeout
        self.write_timeout = write_timeout
        self.groups: GroupCommit[Pending, int] = GroupCommit(self._write_group, max_items=max_group)
        database = engine.url.database if self.sqlite else None
        # An SQLite file: each group in one call on a worker thread (sqlite_writer); in memory, the engine.
        self._file_writer = (
            SQLiteGroupWriter(database, write_timeout) if database and database != ":memory:" else None
        )
        self._unindexed = 0  # records this process appended since its last indexing batch began
        self._idle: asyncio.TimerHandle | None = None
        self._indexing: asyncio.Task[None] | None = None

    @property
    def sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    async def append(self, disclosure: Disclosure) -> int:
        """The record's seq once it is durably in the chain; ``AuditWriteFailed`` when it is not."""
        try:
            return await self.groups.submit(Pending.of(disclosure, keyed=self._file_writer is None))
        except GroupFailed as exc:
            raise AuditWriteFailed(f"disclosure {disclosure.request_id} not recorded: {exc}") from exc

    async def _write_group(self, take: Take[Pending]) -> list[int] | Committed[int]:
        """The group's seqs: its members taken (``take``) once the chain's lock is held. On an SQLite
        file, committed and released once flushed (``sqlite_writer``: the flush outside the lock)."""
        try:
            if self._file_writer is not None:
                written = await self._file_writer.write(
                    lambda seq, prev: self._chain(take(), seq, prev), alone=self._nothing_waiting
                )
                for seq, record_hash in self._due(written.records):  # right after the group's own commit
                    async with self.locked() as conn:
                        await write_seal(conn, self.keys.sealer, seq, record_hash, now_iso())
                self._index_later(len(written.records))
                return Committed([seq for seq, _ in written.records], self._file_writer.flushed(written.ticket))
            async with asyncio.timeout(self.write_timeout), self.locked() as conn:
                chained = await self._append(conn, take)
                for seq, record_hash in self._due(chained):
                    await write_seal(conn, self.keys.sealer, seq, record_hash, now_iso())
                return [seq for seq, _ in chained]
        except TimeoutError as exc:
            raise AuditWriteFailed(f"the audit database did not answer within {self.write_timeout} s") from exc
        except (SQLAlchemyError, sqlite3.Error, OSError, SealError) as exc:
            raise AuditWriteFailed(str(exc)) from exc

    def _nothing_waiting(self) -> bool:
        """On the writer thread after a group's commit: no record waits for the next group, so the
        writer flushes this one itself (``sqlite_writer``)."""
        return self.groups.waiting == 0

    def _index_later(self, appended: int) -> None:
        """Index the subjects once ``INDEX_EVERY`` records wait, or ``INDEX_IDLE`` seconds after the first."""
        self._unindexed += appended
        if self._unindexed >= INDEX_EVERY:
            self._start_indexing()
        elif self._idle is None:
            self._idle = asyncio.get_running_loop().call_later(INDEX_IDLE, self._start_indexing)

    def _start_indexing(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        if self._indexing is None or self._indexing.done():
            self._unindexed = 0
            self._indexing = asyncio.get_running_loop().create_task(self._index_quietly())

    async def _index_quietly(self) -> None:
        try:
            await self.index_subjects()
        except Exception as exc:  # noqa: BLE001  the next batch starts from the mark: nothing is lost
            log.warning("the audit's subject index could not be written now (%s); a later batch will", exc)

    async def index_subjects(self) -> int:
        """Write the subject index of every record past the mark now (SQLite file; elsewhere the
        index is written with the records): how many records were indexed."""
        done = 0
        if self._file_writer is not None:
            while indexed := await self._file_writer.index(INDEX_BATCH):
                done += indexed
        return done

    async def aclose(self) -> None:
        """Stop indexing, let the groups waiting for their flush have it, and close the SQLite file's
        connections; the engine is its owner's to close.
        An indexing batch under way finishes first (it is on a worker thread, and stopping it midway
        would only leave it for the next process); records not yet indexed wait for the next batch."""
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        if self._indexing is not None:
            await self._indexing
            self._indexing = None
        await self.groups.settled()  # groups written and waiting for their flush get it (or fail) first
        if self._file_writer is not None:
            self._file_writer.close()

    def _due(self, chained: list[tuple[int, str]]) -> list[tuple[int, str]]:
        """The records of a group to seal: each whose seq is a multiple of ``seal_every``."""
        every = self.seal_every
        return [] if every is None else [(seq, h) for seq, h in chained if seq % every == 0]

    async def last_sealed_seq(self) -> int | None:
        """The newest seal's seq (where an incremental check can start), None while nothing is sealed."""
        async with self.engine.connect() as conn:
            return (await conn.execute(select(func.max(AuditSealRow.seq)))).scalar_one_or_none()

    async def seal(self) -> Seal | None:
        """Seal the latest record now (``hub audit seal``); None while the log is empty."""
        async with self.locked() as conn:
            return await self._seal(conn)

    def _chain(self, group: Sequence[Pending], seq: int, prev: str) -> Chained:
        """The group's rows chained on from the head ``(seq, prev)``: the only work done under the lock."""
        records: list[dict[str, Any]] = []
        index: list[tuple[int, int]] = []
        usage: dict[tuple[str, str], list[Any]] = {}
        arrays = not self.sqlite  # PostgreSQL: the keys in the record's own row
        for pending in group:
            seq, record_hash = seq + 1, link(prev, pending.canonical)
            record = {**UNDECLARED, **pending.values, "seq": seq, "prev_hash": prev, "hash": record_hash,
                      "mac": self.keys.row_mac(record_hash)}
            if arrays:
                record["subject_keys"] = list(pending.keys or ())
            elif pending.keys is not None:
                block = block_of(seq)
                index.extend([(key, block) for key in pending.keys])
            records.append(record)
            values = pending.values
            counted = usage.setdefault((values["time"][:13], values["client_id"]), [values["department"], 0, 0])
            counted[1] += 1
            counted[2] += pending.subjects
            prev = record_hash
        rows = [(hour, client, *counts) for (hour, client), counts in usage.items()]
        return Chained(records, index, rows, self.keys.head_mac(seq, prev))

    async def _append(self, conn: AsyncConnection, take: Take[Pending]) -> list[tuple[int, str]]:
        head = (await conn.execute(self._head_query())).one()  # the lock held from here (PostgreSQL)
        chained = self._chain(take(), head.seq, head.hash)
        last = chained.records[-1]
        moved = (
            update(AuditHeadRow)
            .where(AuditHeadRow.id == HEAD_ID)
            .values(seq=last["seq"], hash=last["hash"], mac=chained.head_mac)
        )
        if not self.sqlite:
            # One statement, one round trip while the lock is held: the records, the head and the usage
            # counts (PostgreSQL runs every data-modifying WITH to completion, in the same snapshot).
            written = insert(AuditRecordRow).values(chained.records).cte("written")
            await conn.execute(self._counted(chained.usage).add_cte(written).add_cte(moved.cte("moved")))
            return [(record["seq"], record["hash"]) for record in chained.records]
        await conn.execute(insert(AuditRecordRow), chained.records)
        # SQLite in memory: the index in the group's transaction, and its mark with it.
        if chained.index:  # the driver's own executemany: no per-row compiling
            await conn.exec_driver_sql(INDEX_ROWS, sorted(set(chained.index)))
        await conn.execute(
            update(AuditIndexRow).where(AuditIndexRow.id == 1, AuditIndexRow.seq == head.seq).values(seq=last["seq"])
        )
        await conn.execute(moved)
        await conn.execute(self._counted(chained.usage))
        return [(record["seq"], record["hash"]) for record in chained.records]

    def _counted(self, usage: list[tuple[str, str, str, int, int]]) -> Any:
        """Adding the group to ``audit_usage`` (one row per hour and client, summed in the database)."""
        rows = [{"hour": hour, "client_id": client, "department": department, "records": records,
                 "subjects": subjects} for hour, client, department, records, subjects in usage]
        statement = (sqlite_insert if self.sqlite else pg_insert)(AuditUsageRow).values(rows)
        excluded = statement.excluded
        return statement.on_conflict_do_update(
            index_elements=["hour", "client_id"],
            set_={"records": AuditUsageRow.records + excluded.records,
                  "subjects": AuditUsageRow.subjects + excluded.subjects},
        )

    async def _seal(self, conn: AsyncConnection) -> Seal | None:
        head = (await conn.execute(self._head_query())).one()
        if head.seq == 0:
            return None
        return await write_seal(conn, self.keys.sealer, head.seq, head.hash, now_iso())

    def _head_query(self) -> Select[int, str]:  # (seq, hash), locked on PostgreSQL
        query = select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == HEAD_ID)
        return query if self.sqlite else query.with_for_update()

    @asynccontextmanager
    async def locked(self) -> AsyncIterator[AsyncConnection]:
        """A transaction holding the chain's lock (committed on success, rolled back on error)."""
        if not self.sqlite:
            async with self.engine.begin() as conn:
                await conn.execute(STALL_BOUNDS, {
                    "idle": str(int(self.stall_timeout * 1000)), "lock": str(int(self.write_timeout * 1000)),
                })
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
