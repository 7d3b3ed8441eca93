"""A group's transaction on SQLite in one call on a thread of its own, not one thread hop per statement.

Through the async driver each statement of a group (begin, read the head, insert the records, their
index rows, move the head, count usage, commit) is a hand-off to the driver's thread and back, and
each hand-off waits for the event loop and the interpreter's lock: on a busy process that is most
of an append's time. Here the whole transaction runs in one worker-thread call on a connection of
its own, and waits for another process's write lock at most
``write_timeout`` seconds, in sleeps of at most 2 ms (``_begin``; not SQLite's busy timeout, whose
sleeps grow to 100 ms). The same record rows, in the same columns, as the
SQLAlchemy path writes on PostgreSQL. Inside that call each statement the thread steps gives up the
interpreter's lock and must take it back from the busy event loop, so a group is six statements
whatever its size: its records in one multi-row ``INSERT`` and its usage counts in another.

The subject index (``audit_subjects``) is not written in the group's transaction: 1,000 subjects with
random 64-bit keys dirty about as many B-tree pages, whose copies in the write-ahead log were most of
a large record's commit. ``index`` writes it in batches afterwards, sorted by key, from the records
themselves (so nothing is lost to a crash: the next batch starts at ``audit_index.seq``); a batch of
many records touches each page once. Its rows are (key, block of ``SUBJECT_BLOCK`` seqs), made
distinct in the batch and written ``INSERT OR IGNORE``: the same subjects in record after record (the
same list pages) are one row per block. The writer remembers the keys its committed rows hold in the
last block it indexed, so a subject again there costs a set look-up, not a statement; a block
another process began costs a B-tree look-up per key, not a row. Until then who-accessed reads the
few records past the mark directly (``hub/audit/queries.py``).

Durability: the flush is made outside the write lock, and one flush serves many groups. The writer's
connection (only it: the hub's engine keeps ``synchronous=FULL``) commits at ``synchronous=NORMAL``:
in write-ahead-log mode a commit is then atomic and survives the process's crash (its frames are in
the operating system's cache), and SQLite still syncs the log before every checkpoint and before
reusing it, so the file is never corrupted. What a power loss or an operating-system crash could take
is made safe by the writer itself: ``write`` returns the group's results with a ticket (the count of
commits so far), and ``flushed(ticket)`` is a future done once an ``os.fdatasync`` of the ``-wal`` file
that *started after* that commit has returned (the flush completes the futures it covers itself).
That flush runs on the writer's flusher thread after the lock is released, so the next group (and the
other hub process) can commit meanwhile; one flush at a time per process, and every commit counted
before a flush starts is covered by it (frames are appended in order), so one flush releases every
group waiting for it, and groups committed during it wait for the next one. The records' requests
answer only after ``flushed`` (``GroupCommit``'s ``Committed``). A group committed alone (every earlier
commit flushed, no flush under way, none ended in the last ``LONE_GAP`` seconds, no group queued here
and the caller's ``alone()`` true: nothing waiting to be grouped) is flushed by the writer thread
itself, after its commit returned, and handed back with the same one call, ``flushed`` then done at
once: a lone request's wait has no flusher wake-up and one loop wake-up, not two. The same flush, the
same rules: ``_flushing`` keeps the two threads' flushes one at a time, and a failure there fails the
group and every later one.

Two threads of the writer's own, not ``asyncio.to_thread``: a group is handed to the writer thread on a
``SimpleQueue`` and its commit comes back with one ``call_soon_threadsafe``; the writer thread wakes
the flusher directly after each commit it does not flush itself, and the flusher hands the loop one
call per flush, whatever the number of groups it covered. Through the default executor each group paid
two hand-offs (the write, then a flush task's ``to_thread``), each with a context copy, the executor's
locks and chained futures, which on a busy event loop cost more than the group's own statements
(docs/architecture.md, "The audit").

So each record is durable before its answer leaves. A reader (``verify``, who-accessed, the console)
may see a committed record a moment before it is flushed; after a power loss, records whose answers
never left may be missing, never one whose answer left. When a flush fails, every group it covered
fails (its requests answer 503, no data), and so does every group after it, committed or not, until
the hub is restarted: the kernel may have dropped the unwritten pages and reports that once, so a
later flush that succeeds proves nothing, and SQLite's recovery after a power loss stops at the first
lost frame of the log, taking every later commit with it. Records committed before the failure may
stay in the log with their answers refused (over-recording, never an answer without its record);
after it, nothing more is committed. The ``-wal`` file is opened once and reopened only when SQLite has replaced it
(another inode at its path); never after a failure, whose error the same open file reports.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import orjson

from hub.audit.records import references, subject_key
from hub.audit.tables import block_of

_log = logging.getLogger(__name__)

RECORD_COLUMNS = (
    "seq", "time", "request_id", "client_id", "department", "end_user", "purpose", "case_number",
    "operation_name", "operation_hash", "subjects", "layout", "prev_hash", "hash", "mac",
    "gateway", "origin_client", "origin_proven",  # a gateway's declaration, when a gateway asked
)  # fmt: skip
RECORD_VALUES = f"({', '.join('?' * len(RECORD_COLUMNS))})"
SUBJECTS_AT = RECORD_COLUMNS.index("subjects")
INSERT_INDEX = "INSERT OR IGNORE INTO audit_subjects (subject_key, block) VALUES (?, ?)"
INDEX_MARK = "SELECT seq FROM audit_index WHERE id = 1"
UNINDEXED = "SELECT seq, subjects, layout FROM audit_records WHERE seq > ? ORDER BY seq LIMIT ?"
INDEX_ROWS = 8192  # index rows per transaction at most (a record's all in one): appends wait for one only
KEYS_KEPT = 200_000  # references whose keys are remembered between batches (the same subjects recur)
BUSY_WAIT = 0.0002  # seconds: the first sleep while another process holds the write lock
BUSY_WAIT_MAX = 0.002  # and the longest: a lock freed is taken within 2 ms
# A group is flushed by the writer thread itself only when the last flush ended this long before its
# commit: a lone request's, not one of a stream whose next group would wait for that flush to commit
# (under load the flusher flushes while the next group commits; docs/architecture.md, "The audit").
LONE_GAP = 0.003
ROWS_PER_STATEMENT = 256  # a group's records (or usage rows) in one INSERT: 256 x 18 values bound at most
Row = TypeVar("Row")
COUNTED = (
    " ON CONFLICT (hour, client_id) DO UPDATE SET records = records + excluded.records,"
    " subjects = subjects + excluded.subjects"
)



class Chained(Protocol):
    """A group's rows chained on from the head (``hub.audit.store.Chained``)."""

    @property
    def records(self) -> list[dict[str, Any]]: ...
    @property
    def usage(self) -> list[tuple[str, str, str, int, int]]: ...
    @property
    def head_mac(self) -> str: ...


Chain = Callable[[int, str], Chained]  # (head seq, head hash) -> the group's rows


@dataclass(frozen=True, slots=True)
class Written:
    """A group committed (not yet flushed): its records' ``(seq, hash)`` and the writer's ticket for
    ``flushed``."""

    records: list[tuple[int, str]]
    ticket: int


class FlushFailed(OSError):
    """The write-ahead log could not be flushed: the commits it covered are not known to be durable."""


class SQLiteGroupWriter:
    """Writes groups to one SQLite file; ``chain(head_seq, head_hash)`` makes the group's rows."""

    def __init__(self, path: str, write_timeout: float) -> None:
        self._path = path
        self._busy_ms = int(write_timeout * 1000)
        self._write_timeout = write_timeout
        self._connection: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None  # the indexer's reads, outside the writer's lock
        self._lock = threading.Lock()  # one transaction at a time on the connection, whichever thread runs it
        self._keys: dict[str, int] = {}
        self._indexing = threading.Lock()  # one batch at a time (the reader connection is the indexer's)
        # The last block this writer indexed and the keys its committed rows hold there: a subject
        # again in that block is skipped without a statement (rows are only ever added to a block).
        self._block: tuple[int, set[int]] = (-1, set())
        self._committed = 0  # groups committed by this writer: a group's ticket is the count after its commit
        self._flushed = 0  # every ticket up to this one is durable (a flush started after it returned)
        # A flush that failed: from then on nothing is committed or released (see the module's docstring).
        self._failure: OSError | None = None
        self._waiting: list[tuple[int, asyncio.Future[None]]] = []  # (ticket, done when it is durable), on the loop
        self._jobs: queue.SimpleQueue[
            tuple[asyncio.AbstractEventLoop, asyncio.Future[Written], Chain, Callable[[], bool]] | None
        ] = queue.SimpleQueue()
        self._flushing = False  # a flush under way (the flusher's or the writer's own), under ``_commits``
        self._commits = threading.Condition()  # the flusher waits on it for a commit it has not flushed
        self._threads: list[threading.Thread] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wal: tuple[int, int, int] | None = None  # the ``-wal`` file's descriptor, device and inode
        self._wal_lock = threading.Lock()  # the descriptor is not closed while a flush uses it
        self._closed = False
        self._closing = threading.Lock()  # ``write`` queues a group, or ``close`` stops the threads: never both at once
        self.flushes = 0  # flushes started (the coalescing is observable, not assumed)
        self.inline_flushes = 0  # of which made by the writer thread right after a lone group's commit
        self.inline = True  # a lone group flushed by the writer thread itself (False: always the flusher)
        self.lone_gap = LONE_GAP  # seconds since the last flush ended for a group to count as alone
        self._flush_ended = float("-inf")  # ``time.monotonic()`` when the last successful flush returned

    async def write(self, chain: Chain, alone: Callable[[], bool] = lambda: False) -> Written:
        """Commit a group (not yet durable: ``flushed(written.ticket)`` before anything is released).
        ``alone()``, asked on the writer thread right after the commit: true when no other group is
        waiting to be written, so that this thread flushes the log at once (``_serve``)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Written] = loop.create_future()
        with self._closing:  # a ``close`` on another thread comes before the check or after the group is queued
            if self._closed:
                raise FlushFailed("the audit writer is closed")
            self._loop = loop  # the flusher's completions go to the loop that waits for them
            self._start()
            self._jobs.put((loop, done, chain, alone))  # ahead of ``close``'s stop: the writer thread takes it
        return await done

    async def durable(self, ticket: int) -> None:
        """Return once the commit ``ticket`` is on disk; ``FlushFailed`` when a flush covering it failed."""
        await self.flushed(ticket)

    def flushed(self, ticket: int) -> asyncio.Future[None]:
        """A future done once the commit ``ticket`` is on disk, raising ``FlushFailed`` when a flush
        covering it failed. One future a group, completed on the event loop by the flusher's one call
        for every group a flush covered: no task or shield per group waiting. Cancelling it stops
        nothing but the wait."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if ticket <= self._flushed:
            done.set_result(None)
        elif self._failure is not None:
            done.set_exception(FlushFailed(f"the audit log's flush failed: {self._failure}"))
        elif self._closed:  # a group committed while the writer closed: no flush will come, nor a ``_wake``
            done.set_exception(FlushFailed("the audit writer was stopped before the log was flushed"))
        else:
            self._waiting.append((ticket, done))  # the flusher's next call completes it (see ``_wake``)
        return done

    def _wake(self) -> None:
        """On the event loop, after a flush: complete every waiting future it decided (durable, or
        failed for good); the rest wait for the flush under way or the next, which every commit asks for."""
        waiting, self._waiting = self._waiting, []
        for ticket, done in waiting:
            if done.done():
                continue
            if ticket <= self._flushed:  # flushed before any failure: durable (``_flushed`` moves on success only)
                done.set_result(None)
            elif self._failure is not None:
                done.set_exception(FlushFailed(f"the audit log's flush failed: {self._failure}"))
            elif self._closed:
                done.set_exception(FlushFailed("the audit writer was stopped before the log was flushed"))
            else:
                self._waiting.append((ticket, done))

    def _start(self) -> None:
        """The writer's two threads, started with its first group: one commits groups in turn, the
        other flushes the log (so the next group commits while the last one's flush runs)."""
        if self._threads:
            return
        for name, target in (("audit-writer", self._serve), ("audit-flusher", self._flush_all)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self) -> None:
        """The writer thread: each group's transaction, its result handed back with one call to the
        waiting loop (a queue and a call, not ``to_thread``'s executor, context and chained futures).
        A group committed alone (no flush under way, no other group queued here, and ``alone()`` true:
        nothing waiting to be grouped) is flushed here, right after its commit, and handed back
        committed and durable in that one call: no wake-up of the flusher, no second call on the loop.
        Otherwise the flusher flushes it while the next group commits (the pipelining under load)."""
        while (job := self._jobs.get()) is not None:
            loop, done, chain, alone = job
            try:
                written, inline = self._write(chain, alone)
            except Exception as exc:  # noqa: BLE001  handed to the group's callers, who all fail
                with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits for the answer
                    loop.call_soon_threadsafe(_refuse, done, exc)
                continue
            if inline:
                self._flush(written.ticket)  # ``_flushed`` moved (or ``_failure`` set) before the call below
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_deliver, done, written)

    def _flush_all(self) -> None:
        """The flusher thread: one ``fdatasync`` of the log at a time, covering every commit counted
        before it starts; after each, one call on the loop completes the futures it decided."""
        while True:
            with self._commits:
                while (
                    (self._committed <= self._flushed or self._flushing)
                    and self._failure is None
                    and not self._closed
                ):
                    self._commits.wait()
                if self._closed or self._failure is not None:
                    return
                covered = self._committed  # those commits' frames are in the file (counted after SQLite returned)
                self._flushing = True
            if not self._flush(covered):
                return
            loop = self._loop
            if loop is not None:
                with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits
                    loop.call_soon_threadsafe(self._wake)

    def _flush(self, covered: int) -> bool:
        """One flush covering the commits up to ``covered``, made by the thread that set ``_flushing``
        (the flusher, or the writer for a group committed alone): ``_flushed`` moves on success,
        ``_failure`` is set for good on failure. False when the writer closed meanwhile (``close``
        fails what still waits, nothing is lost)."""
        self.flushes += 1
        try:
            self._sync()  # a close meanwhile waits for it (the descriptor is closed under the same lock)
        except OSError as exc:
            with self._commits:
                self._flushing = False
                if self._closed:
                    return False
                self._failure = exc
                self._commits.notify()  # the flusher, if idle, stops
            _log.critical(
                "the audit log could not be flushed (%s): the requests of %d group(s) fail closed, and "
                "every later one until the hub is restarted; check the disk, then run `hub audit verify`",
                exc, covered - self._flushed,
            )
            return True
        with self._commits:
            self._flushed = covered
            self._flushing = False
            self._flush_ended = time.monotonic()
            if self._committed > covered:
                self._commits.notify()  # committed during this flush: the flusher's next one
        return True

    def _sync(self) -> None:
        with self._wal_lock:
            if self._closed:
                raise FlushFailed("the audit writer is closed")
            wal_path = self._path + "-wal"
            current = os.stat(wal_path)
            if self._wal is not None and (self._wal[1], self._wal[2]) != (current.st_dev, current.st_ino):
                os.close(self._wal[0])  # SQLite replaced the log: the new one is the one to flush
                self._wal = None
            if self._wal is None:
                fd = os.open(wal_path, os.O_RDONLY | os.O_CLOEXEC)
                opened = os.fstat(fd)
                self._wal = (fd, opened.st_dev, opened.st_ino)
            os.fdatasync(self._wal[0])

    def _write(self, chain: Chain, alone: Callable[[], bool]) -> tuple[Written, bool]:
        """Commit the group; with it whether this thread flushes it itself (see ``_serve``)."""
        if self._failure is not None:  # nothing more is committed on a log whose flush failed
            raise FlushFailed(f"the audit log's flush failed: {self._failure}")
        with self._lock:
            db = self._open()
            self._begin(db)
            try:
                seq, record_hash = db.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
                group = chain(seq, record_hash)
                for rows in _batches([_row(record) for record in group.records]):
                    db.execute(_insert_records(len(rows)), [value for row in rows for value in row])
                last = group.records[-1]
                db.execute("UPDATE audit_head SET seq = ?, hash = ?, mac = ? WHERE id = 1",
                           (last["seq"], last["hash"], group.head_mac))
                for counts in _batches(group.usage):
                    db.execute(_count_usage(len(counts)), [value for count in counts for value in count])
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            with self._commits:
                self._committed += 1
                inline = (  # nothing before it waits for a flush, none under way, no group behind it
                    self.inline and self._committed - 1 == self._flushed and not self._flushing
                    and self._jobs.empty() and time.monotonic() - self._flush_ended >= self.lone_gap and alone()
                )
                if inline:
                    self._flushing = True  # the flusher keeps off until this thread's flush is done
                    self.inline_flushes += 1
                else:
                    self._commits.notify()
                ticket = self._committed
            return Written([(record["seq"], record["hash"]) for record in group.records], ticket), inline

    async def index(self, limit: int) -> int:
        """Index the subjects of up to ``limit`` records past the mark; how many (0: none was waiting)."""
        return await asyncio.to_thread(self._index, limit)

    def _index(self, limit: int) -> int:
        with self._indexing:
            return self._index_batch(limit)

    def _index_batch(self, limit: int) -> int:
        reader = self._read_connection()
        mark = reader.execute(INDEX_MARK).fetchone()[0]
        rows = reader.execute(UNINDEXED, (mark, limit)).fetchall()
        done = 0
        for chunk in _chunks([(seq, _named(subjects, layout)) for seq, subjects, layout in rows]):
            known, added = self._block, dict[int, set[int]]()
            for seq, named in chunk:  # a subject again in the same block: the same row, once
                block, key = block_of(seq), self._key
                if block not in added:
                    added[block] = set()
                fresh, held = added[block], known[1] if block == known[0] else ()
                fresh.update([k for k in map(key, named) if k not in held])
            keyed = sorted((k, block) for block, keys in added.items() for k in keys)
            last = chunk[-1][0]
            with self._lock:  # held for the write only (reading and hashing were done without it), and
                db = self._open()  # released between chunks, so appends go in between
                self._begin(db)
                try:
                    moved = db.execute(INDEX_MARK).fetchone()[0] != mark  # another process indexed them
                    if not moved:
                        db.executemany(INSERT_INDEX, keyed)
                        db.execute("UPDATE audit_index SET seq = ? WHERE id = 1", (last,))
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
            if moved:
                return max(done, 1)  # the caller reads from the new mark
            last_block = max(added)  # committed: the rows are there
            self._block = (last_block, (known[1] if last_block == known[0] else set()) | added[last_block])
            mark, done = last, done + len(chunk)
        return done

    def _begin(self, db: sqlite3.Connection) -> None:
        """Take the database's write lock (``BEGIN IMMEDIATE``), waiting for another process's
        transaction at most ``write_timeout`` seconds, and coming in at most ``BUSY_WAIT_MAX`` after it
        ends. SQLite's own busy handler backs off to 10, 20 and then 100 ms sleeps, so with two hub
        processes on one file a group could wait several times the other's short transaction; here
        the thread sleeps (without the interpreter's lock) from ``BUSY_WAIT`` doubling to that bound."""
        deadline = time.monotonic() + self._write_timeout
        wait = BUSY_WAIT
        while True:
            try:
                db.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if (exc.sqlite_errorcode or 0) & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() + wait > deadline:
                    raise
            time.sleep(wait)
            wait = min(wait * 2, BUSY_WAIT_MAX)

    def _key(self, reference: str) -> int:
        found = self._keys.get(reference)
        if found is None:
            if len(self._keys) >= KEYS_KEPT:
                self._keys.clear()
            found = self._keys[reference] = subject_key(reference)
        return found

    def _open(self) -> sqlite3.Connection:
        if self._connection is None:
            db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # per connection: atomic commits, flushed by ``flushed``
            db.execute("PRAGMA busy_timeout=0")  # a busy write lock is waited for in ``_begin``; once
            self._connection = db  # taken, nothing in a write-ahead-logged transaction waits for a lock
        return self._connection

    def _read_connection(self) -> sqlite3.Connection:
        if self._reader is None:
            self._reader = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            self._reader.execute(f"PRAGMA busy_timeout={self._busy_ms}")
        return self._reader

    def close(self) -> None:
        """Stop the writer's threads (a group being written or flushed finishes first), fail whatever
        still waits for a flush, and close the file's connections and the log's descriptor."""
        with self._closing:  # after it no group is queued nor a thread started: the ones to join are these
            with self._commits:
                self._closed = True
                self._commits.notify()
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()
        self._threads = []
        if self._loop is not None:  # what still waits fails there (``close`` may run on another thread)
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits
                self._loop.call_soon_threadsafe(self._wake)
        with self._lock:
            for db in (self._connection, self._reader):
                if db is not None:
                    db.close()
            self._connection = self._reader = None
        with self._wal_lock:
            if self._wal is not None:
                os.close(self._wal[0])
                self._wal = None


def _batches(rows: list[Row]) -> list[list[Row]]:
    """Rows in statements of at most ``ROWS_PER_STATEMENT`` (SQLite binds at most 32,766 values)."""
    return [rows[at : at + ROWS_PER_STATEMENT] for at in range(0, len(rows), ROWS_PER_STATEMENT)]


@functools.cache
def _insert_records(count: int) -> str:
    """One statement for a group's ``count`` records: one step of the writer, not one per record (each
    step gives up the interpreter's lock, and taking it back from a busy event loop is most of a write)."""
    return f"INSERT INTO audit_records ({', '.join(RECORD_COLUMNS)}) VALUES {', '.join([RECORD_VALUES] * count)}"


@functools.cache
def _count_usage(count: int) -> str:
    """One statement adding a group's ``count`` usage rows (one per hour and client) to ``audit_usage``."""
    values = ", ".join(["(?, ?, ?, ?, ?)"] * count)
    return f"INSERT INTO audit_usage (hour, client_id, department, records, subjects) VALUES {values}{COUNTED}"


def _chunks(named: list[tuple[int, list[str]]]) -> list[list[tuple[int, list[str]]]]:
    """Records in order, cut into transactions of about ``INDEX_ROWS`` index rows (a record whole)."""
    chunks: list[list[tuple[int, list[str]]]] = [[]]
    rows = 0
    for record in named:
        if rows >= INDEX_ROWS:
            chunks.append([])
            rows = 0
        chunks[-1].append(record)
        rows += len(record[1])
    return chunks if chunks[0] else []


def _named(subjects: str, layout: int) -> list[str]:
    """A stored record's references; none when its subjects cannot be read (edited in the database:
    ``verify`` reports it, and the batch goes on past it)."""
    try:
        return references(orjson.loads(subjects), layout)
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return []


def _row(record: dict[str, Any]) -> list[Any]:
    """The record's values in ``RECORD_COLUMNS``' order, its subjects as JSON text (no copy of the record)."""
    row = list(map(record.get, RECORD_COLUMNS))
    row[SUBJECTS_AT] = orjson.dumps(row[SUBJECTS_AT]).decode("utf-8")
    return row



def _deliver(done: asyncio.Future[Written], written: Written) -> None:
    """On the event loop: a group's commit to the write waiting for it, unless it gave up."""
    if not done.done():
        done.set_result(written)


def _refuse(done: asyncio.Future[Written], failed: Exception) -> None:
    """On the event loop: why a group's transaction failed, to the write waiting for it."""
    if not done.done():
        done.set_exception(failed)
