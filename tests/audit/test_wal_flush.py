"""The SQLite file's writer commits at ``synchronous=NORMAL`` and flushes the write-ahead log itself,
outside the write lock, on a thread of its own: one flush for every group committed before it started;
no request of a group is released before a flush covering it returned, and a failed flush fails them all."""

from __future__ import annotations

import asyncio
import errno
import inspect
import os
import sqlite3
import sys
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from sqlalchemy import text

from hub.audit import AuditKeys, AuditStore, AuditWriteFailed, verify
from hub.audit import sqlite_writer
from hub.audit.sqlite_writer import FlushFailed, SQLiteGroupWriter
from hub.audit.store import Pending
from hub.store import Sealer, connect, migrate
from hub.store.sealing import decode_key
from tests.audit.conftest import disclosure

real_fdatasync = os.fdatasync


@pytest.fixture
async def store(tmp_path: Path, key_encryption_key: str) -> AsyncIterator[AuditStore]:
    """An SQLite file's audit log writing every record as its own group (so groups are countable)."""
    keys = AuditKeys.from_sealer(Sealer(decode_key(key_encryption_key)))
    audit = AuditStore(connect(f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}"), keys, max_group=1)
    await migrate(audit.engine)
    try:
        yield audit
    finally:
        await audit.aclose()
        await audit.engine.dispose()


class Flushes:
    """``os.fdatasync`` as the writer calls it: counted, and each call held or failed as a test says."""

    def __init__(self) -> None:
        self.calls = 0
        self.held: dict[int, threading.Event] = {}  # call number -> released when set
        self.failing: set[int] = set()  # call numbers that raise EIO

    def __call__(self, fd: int) -> None:
        self.calls += 1
        number = self.calls
        if number in self.held:
            self.held[number].wait(30)
        if number in self.failing:
            raise OSError(errno.EIO, "Input/output error")
        real_fdatasync(fd)


@pytest.fixture
def flushes(monkeypatch: pytest.MonkeyPatch) -> Flushes:
    counted = Flushes()
    monkeypatch.setattr(sqlite_writer.os, "fdatasync", counted)
    return counted


def writer(store: AuditStore) -> SQLiteGroupWriter:
    assert store._file_writer is not None
    return store._file_writer


async def until(condition: Callable[[], bool]) -> None:
    """Wait for the writer to reach a state (a hang guard, not a speed check: 30 s on a busy machine)."""
    async with asyncio.timeout(30):
        while not condition():
            await asyncio.sleep(0.005)


async def test_the_writer_commits_at_normal_and_the_hubs_engine_stays_at_full(store: AuditStore) -> None:
    await store.append(disclosure(store, 1))
    connection = writer(store)._connection
    assert connection is not None
    assert connection.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    async with store.engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA synchronous"))).scalar_one() == 2  # FULL


async def test_one_flush_covers_every_group_committed_while_the_previous_one_ran(
    store: AuditStore, flushes: Flushes
) -> None:
    flushes.held[1] = threading.Event()
    first = asyncio.ensure_future(store.append(disclosure(store, 1)))
    await until(lambda: flushes.calls == 1)  # group 1 committed, its flush under way (held)
    later = [asyncio.ensure_future(store.append(disclosure(store, n))) for n in range(2, 7)]
    await until(lambda: writer(store)._committed == 6)  # written while the flush runs: not waiting for it
    await asyncio.sleep(0.05)
    assert not first.done() and not any(task.done() for task in later)  # none released before its flush
    flushes.held[1].set()
    assert await first == 1
    assert sorted(await asyncio.gather(*later)) == [2, 3, 4, 5, 6]
    assert store.groups.groups == 6 and flushes.calls == 2  # five groups, one flush
    report = await verify(store)
    assert report.intact and report.records == 6, report.findings


async def test_concurrent_appends_take_fewer_flushes_than_groups(store: AuditStore, flushes: Flushes) -> None:
    # The first flush held until every group committed: on a busy machine the flusher could otherwise
    # keep up with the writer, one flush per group, and prove nothing either way.
    flushes.held[1] = threading.Event()
    appends = asyncio.gather(*(store.append(disclosure(store, n)) for n in range(1, 41)))
    await until(lambda: writer(store)._committed == 40)
    flushes.held[1].set()
    seqs = await appends
    assert sorted(seqs) == list(range(1, 41))
    assert store.groups.groups == 40 and flushes.calls < 40, flushes.calls
    assert writer(store).flushes == flushes.calls


async def test_a_failed_flush_fails_every_group_it_covered_and_every_later_one_until_restart(
    store: AuditStore, flushes: Flushes
) -> None:
    flushes.held[1] = threading.Event()
    flushes.failing.add(2)
    first = asyncio.ensure_future(store.append(disclosure(store, 1)))
    await until(lambda: flushes.calls == 1)
    covered = [asyncio.ensure_future(store.append(disclosure(store, n))) for n in range(2, 5)]
    await until(lambda: writer(store)._committed == 4)
    flushes.held[1].set()  # flush 1 (group 1) succeeds; flush 2 covers groups 2 to 4 and fails
    assert await first == 1
    for task in covered:
        with pytest.raises(AuditWriteFailed, match="flush failed"):
            await task
    assert flushes.calls == 2
    for ticket in (2, 3, 4):  # refused for good
        with pytest.raises(OSError):
            await writer(store).durable(ticket)
    # A later flush would succeed, but proves nothing about the lost part of the log, which SQLite's
    # recovery would stop at: nothing more is committed or released by this process.
    with pytest.raises(AuditWriteFailed, match="flush failed"):
        await store.append(disclosure(store, 5))
    assert writer(store)._committed == 4 and flushes.calls == 2
    report = await verify(store)  # the refused answers' records stay: over-recording, the chain intact
    assert report.intact and report.records == 4, report.findings


async def test_a_group_committed_during_a_failed_flush_is_refused_too(store: AuditStore, flushes: Flushes) -> None:
    flushes.held[1] = threading.Event()
    flushes.failing.add(1)
    first = asyncio.ensure_future(store.append(disclosure(store, 1)))
    await until(lambda: flushes.calls == 1)
    during = asyncio.ensure_future(store.append(disclosure(store, 2)))
    await until(lambda: writer(store)._committed == 2)
    flushes.held[1].set()
    with pytest.raises(AuditWriteFailed):
        await first
    with pytest.raises(AuditWriteFailed, match="flush failed"):
        await during  # its frames follow the lost ones in the log: no later flush may release it
    assert flushes.calls == 1


async def test_closing_the_store_lets_the_flush_under_way_finish_and_release_its_group(
    store: AuditStore, flushes: Flushes
) -> None:
    flushes.held[1] = threading.Event()
    first = asyncio.ensure_future(store.append(disclosure(store, 1)))
    await until(lambda: flushes.calls == 1)
    closing = asyncio.ensure_future(store.aclose())  # the hub shutting down while the log is being flushed
    await asyncio.sleep(0.05)
    assert not first.done() and not closing.done()  # not released before its flush, and not dropped
    flushes.held[1].set()
    assert await first == 1
    await closing
    with pytest.raises(AuditWriteFailed, match="closed"):
        await store.append(disclosure(store, 2))  # nothing is committed after close


async def test_a_group_still_waiting_for_its_flush_when_the_writer_closes_fails(
    store: AuditStore, flushes: Flushes
) -> None:
    flushes.held[1] = threading.Event()
    first = asyncio.ensure_future(store.append(disclosure(store, 1)))
    await until(lambda: flushes.calls == 1)
    second = asyncio.ensure_future(store.append(disclosure(store, 2)))
    await until(lambda: writer(store)._committed == 2)  # committed; its flush would be the next one
    closed = asyncio.get_running_loop().run_in_executor(None, writer(store).close)
    await asyncio.sleep(0.05)
    flushes.held[1].set()  # the flush under way ends; the closing writer makes no other
    await closed
    assert await first == 1
    with pytest.raises(AuditWriteFailed, match="stopped"):
        await second
    assert flushes.calls == 1


async def test_a_group_committing_while_the_store_closes_fails_instead_of_waiting_for_ever(
    store: AuditStore, flushes: Flushes, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, go = threading.Event(), threading.Event()
    begin = SQLiteGroupWriter._begin

    def held(self: SQLiteGroupWriter, db: sqlite3.Connection) -> None:
        entered.set()
        go.wait(30)
        begin(self, db)

    monkeypatch.setattr(SQLiteGroupWriter, "_begin", held)
    first = asyncio.ensure_future(store.append(disclosure(store, 1)))
    await until(entered.is_set)  # the group's transaction under way on the writer thread
    # The hub shutting down meanwhile: no group is settling yet, so the writer is closed at once, and
    # the group commits while it closes (its ticket is asked for once the close is done).
    threading.Timer(0.1, go.set).start()
    await store.aclose()
    try:
        with pytest.raises(AuditWriteFailed, match="stopped"):
            await asyncio.wait_for(asyncio.shield(first), 30)  # refused, neither released unflushed nor left waiting
    finally:
        for _, waiting in writer(store)._waiting:  # a failing run: let the fixture's own close end
            waiting.cancel()
    assert flushes.calls == 0


CLOSE_FORGETS_THREADS = next(  # the line of ``close`` after its joins, before it forgets the threads
    SQLiteGroupWriter.close.__code__.co_firstlineno + at
    for at, line in enumerate(inspect.getsourcelines(SQLiteGroupWriter.close)[0])
    if line.strip() == "self._threads = []"
)


@pytest.mark.parametrize("close_reached", ["its end", "its joins"])
async def test_a_close_on_another_thread_while_a_group_is_handed_to_the_writer_leaves_nothing_behind(
    store: AuditStore, tmp_path: Path, close_reached: str
) -> None:
    """``close`` from another thread, run while ``write`` stands between its ``closed`` check and its
    group's place in the queue (the threads started then): the group fails or is written, never waits
    for ever, and once ``close`` returned no thread of the writer runs and no connection is open."""
    file_writer = SQLiteGroupWriter(str(tmp_path / "hub.sqlite"), 5.0)

    def chain(n: int) -> sqlite_writer.Chain:
        return lambda seq, prev: store._chain([Pending.of(disclosure(store, n), keyed=False)], seq, prev)

    first = await file_writer.write(chain(1))  # the writer's threads running
    await file_writer.flushed(first.ticket)
    started = set(threading.enumerate())
    reached, go = threading.Event(), threading.Event()

    def closing_trace(frame: FrameType, event: str, arg: object) -> Any:
        if frame.f_code is not SQLiteGroupWriter.close.__code__:
            return None
        if event == "line" and frame.f_lineno == CLOSE_FORGETS_THREADS:
            reached.set()
            go.wait(30)
        return closing_trace

    def close() -> None:
        if close_reached == "its joins":
            sys.settrace(closing_trace)
        try:
            file_writer.close()
        finally:
            sys.settrace(None)
            reached.set()

    closer = threading.Thread(target=close, name="closing the writer")

    def writing_trace(frame: FrameType, event: str, arg: object) -> Any:
        if event == "call" and frame.f_code is SQLiteGroupWriter._start.__code__ and closer.ident is None:
            closer.start()  # the close comes now, on its own thread
            reached.wait(1)  # as far as it goes while the group is not yet queued (a fixed writer holds it)
            asyncio.get_running_loop().call_soon(go.set)  # a close held in it goes on once the group is queued
        return None

    tracing = sys.gettrace()
    sys.settrace(writing_trace)
    try:
        second = asyncio.ensure_future(file_writer.write(chain(2)))
        await asyncio.sleep(0)
    finally:
        sys.settrace(tracing)
    go.set()
    try:
        written = await asyncio.wait_for(second, 30)  # a hang guard
    except FlushFailed:
        pass
    else:
        with pytest.raises(FlushFailed, match="stopped"):  # written, then refused: no flush after close
            await asyncio.wait_for(file_writer.flushed(written.ticket), 30)
    finally:
        go.set()
        closer.join(30)
    try:
        assert not closer.is_alive()
        assert [thread for thread in set(threading.enumerate()) - started if thread.name.startswith("audit-")] == []
        assert (file_writer._connection, file_writer._reader, file_writer._wal) == (None, None, None)
    finally:
        file_writer._jobs.put(None)  # a failing run: let a writer thread started after close end
