"""Group commit on an SQLite file: each group's statements on the event loop, its commit on a thread.

Requests hand their records in (``submit``); once the requests the event loop has ready have added
theirs, every record waiting (up to ``max_items``) is one group, in one transaction on a connection of
the writer's own, with the same durability as the hub's engine (write-ahead log, ``synchronous=FULL``:
the commit is on disk before the group's requests learn their seqs). The same record rows, in the
same columns, as the SQLAlchemy path writes on PostgreSQL.

Where each part runs, and why: the statements (take the lock, read the head, chain and insert the
records, move the head, count usage) are memory work of microseconds, done on the event loop when the
database is free at once; only the commit, the durable flush, goes to the writer's thread, which
hands the outcome back with one ``call_soon_threadsafe``. A thread running the statements itself
gave up the interpreter's lock at each one and waited to get it back from a busy event loop, so a
group took milliseconds longer than its flush, and requests piled up behind it. The event loop never
waits for the database's lock: when this process's indexer or another process holds it, the thread
does the whole group, waiting for the lock up to ``write_timeout`` seconds.

The subject index (``audit_subjects``) is not written in the group's transaction: 1,000 subjects with
random 64-bit keys dirty about as many B-tree pages, whose copies in the write-ahead log were most of
a large record's commit. ``index`` writes it in batches afterwards, sorted by key, from the records
themselves (so nothing is lost to a crash: the next batch starts at ``audit_index.seq``); a batch of
many records touches each page once. Until then who-accessed reads the few records past the mark
directly (``hub/audit/queries.py``).
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Protocol

import orjson

from hub.audit.records import references, subject_key

RECORD_COLUMNS = (
    "seq", "time", "request_id", "client_id", "department", "end_user", "purpose", "case_number",
    "operation_name", "operation_hash", "subjects", "layout", "prev_hash", "hash", "mac",
    "gateway", "origin_client", "origin_proven",  # a gateway's declaration, when a gateway asked
)  # fmt: skip
INSERT_RECORD = (
    f"INSERT INTO audit_records ({', '.join(RECORD_COLUMNS)}) VALUES ({', '.join('?' * len(RECORD_COLUMNS))})"
)
INSERT_INDEX = "INSERT OR IGNORE INTO audit_subjects (subject_key, seq) VALUES (?, ?)"
INDEX_MARK = "SELECT seq FROM audit_index WHERE id = 1"
UNINDEXED = "SELECT seq, subjects, layout FROM audit_records WHERE seq > ? ORDER BY seq LIMIT ?"
INDEX_ROWS = 8192  # index rows per transaction at most (a record's all in one): appends wait for one only
KEYS_KEPT = 200_000  # references whose keys are remembered between batches (the same subjects recur)
COUNT_USAGE = (
    "INSERT INTO audit_usage (hour, client_id, department, records, subjects) VALUES (?, ?, ?, ?, ?)"
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


Chain = Callable[[Sequence[Any], int, str], Chained]  # (items, head seq, head hash) -> the group's rows
Written = list[tuple[int, str]]  # each record's (seq, hash), in the group's order
Answers = list["asyncio.Future[tuple[int, str]]"]
Settle = Callable[[Answers, "Written | BaseException"], None]
Job = tuple[Callable[[], Written], Answers]  # the thread's part of a group, and who waits for it
BUSY_RETRY = 0.002  # seconds between tries for the database's write lock another process holds


class SQLiteGroupWriter:
    """Writes groups to one SQLite file: the statements on the event loop, the commit on a thread.

    ``chain(items, head_seq, head_hash)`` makes a group's rows (under the write lock); ``settle(futures,
    written or the exception)`` is called on the event loop once a group is durable or has failed, and
    sets the futures (the store writes the group's seals first). ``groups`` and ``largest`` count
    what was written: the batching is observable, not assumed.
    """

    def __init__(self, path: str, write_timeout: float, chain: Chain, settle: Settle, *, max_items: int) -> None:
        if max_items < 1:
            raise ValueError("max_items must be at least 1")
        self._path = path
        self._write_timeout = write_timeout
        self._chain = chain
        self._settle = settle
        self._max = max_items
        self._connection: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None  # the indexer's reads, outside the writer's lock
        # One transaction at a time on the connection: taken on the loop, released by the thread that commits.
        self._lock = threading.Lock()
        self._keys: dict[str, int] = {}
        self._indexing = threading.Lock()  # one batch at a time (the reader connection is the indexer's)
        self._waiting: list[tuple[Any, asyncio.Future[tuple[int, str]]]] = []
        self._writing = False  # a group is in the thread's hands: the next waits for it
        self._jobs: queue.SimpleQueue[tuple[Job, asyncio.AbstractEventLoop] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._drained: asyncio.Future[None] | None = None
        self.groups = 0
        self.largest = 0

    def submit(self, item: Any) -> asyncio.Future[tuple[int, str]]:
        """Queue ``item``; the future is its ``(seq, hash)`` once durable."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[int, str]] = loop.create_future()
        self._waiting.append((item, future))
        if not self._writing:  # the group starts once the requests the loop has ready have added theirs
            self._writing = True
            loop.call_soon(self._next, loop)
        return future

    def _next(self, loop: asyncio.AbstractEventLoop) -> None:
        """Every record waiting (up to ``max_items``) as one group: its statements now, if the database
        is free at once, and its commit (the durable flush) on the thread; else all of it there."""
        group, self._waiting = self._waiting[: self._max], self._waiting[self._max :]
        self._writing = True
        self.groups += 1
        self.largest = max(self.largest, len(group))
        items, answers = [item for item, _ in group], [future for _, future in group]
        try:
            commit = self._begun(lambda seq, prev: self._chain(items, seq, prev))
        except Exception as exc:  # noqa: BLE001  the group's statements failed: none of it answers
            loop.call_soon(self._done, loop, answers, exc)
            return
        work = commit if commit is not None else partial(self._write, lambda seq, prev: self._chain(items, seq, prev))
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
            self._thread.start()
        self._jobs.put(((work, answers), loop))

    def _done(self, loop: asyncio.AbstractEventLoop, answers: Answers, outcome: Written | BaseException) -> None:
        self._writing = False
        self._settle(answers, outcome)
        if self._waiting:
            self._next(loop)
        elif self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    async def drain(self) -> None:
        """Every record handed in written (or failed) and settled, and the thread stopped."""
        while self._writing:
            self._drained = asyncio.get_running_loop().create_future()
            await self._drained
        await asyncio.to_thread(self.stop, self._write_timeout)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            (work, answers), loop = job
            outcome: Written | BaseException
            try:
                outcome = work()
            except Exception as exc:  # noqa: BLE001  every request of the group learns it failed
                outcome = exc
            try:
                loop.call_soon_threadsafe(self._done, loop, answers, outcome)
            except RuntimeError:  # the loop is closed: nobody is waiting for these answers any more
                continue

    def _begun(self, chain: Callable[[int, str], Chained]) -> Callable[[], Written] | None:
        """The group's statements in a transaction of its own, run here if neither this process's
        indexer nor another process holds the database's lock (never waiting on the event loop); the
        commit that remains, or None: then the thread does all of it, waiting as long as it may."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            db = self._open()
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error:  # locked by another process (or worse: the thread tries again and says)
            self._lock.release()
            return None
        try:
            written = self._statements(db, chain)
        except BaseException:
            try:
                db.execute("ROLLBACK")
            finally:
                self._lock.release()
            raise
        return partial(self._commit, db, written)

    def _commit(self, db: sqlite3.Connection, written: Written) -> Written:
        try:
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            self._lock.release()
        return written

    def _write(self, chain: Callable[[int, str], Chained]) -> Written:
        with self._lock:
            db = self._open()
            self._begin(db)
            try:
                written = self._statements(db, chain)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            return written

    @staticmethod
    def _statements(db: sqlite3.Connection, chain: Callable[[int, str], Chained]) -> Written:
        seq, record_hash = db.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
        group = chain(seq, record_hash)
        db.executemany(INSERT_RECORD, [_row(record) for record in group.records])
        last = group.records[-1]
        db.execute("UPDATE audit_head SET seq = ?, hash = ?, mac = ? WHERE id = 1",
                   (last["seq"], last["hash"], group.head_mac))
        db.executemany(COUNT_USAGE, group.usage)
        return [(record["seq"], record["hash"]) for record in group.records]

    def _begin(self, db: sqlite3.Connection) -> None:
        """``BEGIN IMMEDIATE``, waiting for another process's write lock up to ``write_timeout``."""
        deadline = time.monotonic() + self._write_timeout
        while True:
            try:
                db.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                    raise
            time.sleep(BUSY_RETRY)

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
            keyed = sorted({(self._key(ref), seq) for seq, named in chunk for ref in named})
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
            mark, done = last, done + len(chunk)
        return done

    def _key(self, reference: str) -> int:
        found = self._keys.get(reference)
        if found is None:
            if len(self._keys) >= KEYS_KEPT:
                self._keys.clear()
            found = self._keys[reference] = subject_key(reference)
        return found

    def _open(self) -> sqlite3.Connection:
        if self._connection is None:
            # No busy timeout: the event loop never waits for the lock (``_begin`` waits, on a thread).
            db = sqlite3.connect(self._path, timeout=0, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")  # per connection: every commit durable, as the engine's
            self._connection = db
        return self._connection

    def _read_connection(self) -> sqlite3.Connection:
        if self._reader is None:
            self._reader = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            self._reader.execute(f"PRAGMA busy_timeout={int(self._write_timeout * 1000)}")
        return self._reader

    def stop(self, timeout: float | None = None) -> None:
        """Let the thread finish the group it holds and stop (a later group starts another): after
        ``drain``, or where no event loop runs any more."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._jobs.put(None)
            thread.join(timeout)

    def close(self) -> None:
        """Stop the thread and close the connections."""
        self.stop()
        with self._lock:
            for db in (self._connection, self._reader):
                if db is not None:
                    db.close()
            self._connection = self._reader = None


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


def _row(record: dict[str, Any]) -> tuple[Any, ...]:
    values = dict(record, subjects=orjson.dumps(record["subjects"]).decode("utf-8"))
    return tuple(values.get(column) for column in RECORD_COLUMNS)
