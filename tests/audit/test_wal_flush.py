"""The SQLite file's writer commits at ``synchronous=NORMAL`` and flushes the write-ahead log itself,
outside the write lock, on a thread of its own: one flush for every group committed before it started;
no request of a group is released before a flush covering it returned, and a failed flush fails them all."""

from __future__ import annotations

import asyncio
import contextlib
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
        self.threads: list[str] = []  # the thread that made each call
        self.committed: list[int] = []  # the writer's commits counted when each call started
        self.writer: SQLiteGroupWriter | None = None

    def __call__(self, fd: int) -> None:
        self.calls += 1
        self.threads.append(threading.current_thread().name)
        if self.writer is not None:
            self.committed.append(self.writer._committed)
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


@pytest.fixture
def flusher_only(store: AuditStore) -> None:
    """Every flush made by the flusher thread, as under load (the writer thread flushes a group
    committed alone itself): its pipelining shown with one group at a time."""
    writer(store).inline = False


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
    store: AuditStore, flushes: Flushes, flusher_only: None
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


async def test_concurrent_appends_take_fewer_flushes_than_groups(
    store: AuditStore, flushes: Flushes, flusher_only: None
) -> None:
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
    store: AuditStore, flushes: Flushes, flusher_only: None
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


async def test_a_group_committed_during_a_failed_flush_is_refused_too(
    store: AuditStore, flushes: Flushes, flusher_only: None
) -> None:
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
    store: AuditStore, flushes: Flushes, flusher_only: None
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
    store: AuditStore, flushes: Flushes, flusher_only: None
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
    else:  # written: durable if a flush covered it before the close, else refused (no flush after close)
        with contextlib.suppress(FlushFailed):
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


@pytest.fixture
def grouped(tmp_path: Path, key_encryption_key: str) -> AuditStore:
    """An SQLite file's audit log grouping every record waiting (as the hub does)."""
    keys = AuditKeys.from_sealer(Sealer(decode_key(key_encryption_key)))
    return AuditStore(connect(f"sqlite+aiosqlite:///{tmp_path / 'grouped.sqlite'}"), keys, max_group=64)


async def test_a_group_committed_alone_is_flushed_by_the_writer_thread_after_its_commit(
    store: AuditStore, flushes: Flushes
) -> None:
    flushes.writer = writer(store)
    assert await store.append(disclosure(store, 1)) == 1
    await asyncio.sleep(writer(store).lone_gap * 3)  # a lone request's pace, not a stream's
    assert await store.append(disclosure(store, 2)) == 2
    # Each flush made by the thread that committed, started once its commit was counted: no hand-off
    # to the flusher, and still a flush that began after the commit returned.
    assert flushes.threads == ["audit-writer", "audit-writer"] and flushes.committed == [1, 2]
    assert writer(store).inline_flushes == 2 and writer(store).flushes == 2
    assert writer(store)._flushed == 2 and not writer(store)._flushing
    report = await verify(store)
    assert report.intact and report.records == 2, report.findings


async def test_a_group_committed_alone_is_not_released_before_the_writer_threads_flush_returns(
    store: AuditStore, flushes: Flushes
) -> None:
    flushes.held[1] = threading.Event()
    first = asyncio.ensure_future(store.append(disclosure(store, 1)))
    await until(lambda: flushes.calls == 1)
    await asyncio.sleep(0.05)
    assert writer(store)._committed == 1 and not first.done()  # committed, not durable: not released
    flushes.held[1].set()
    assert await first == 1


async def test_a_failed_flush_of_the_writer_thread_fails_its_group_and_every_later_one(
    store: AuditStore, flushes: Flushes
) -> None:
    flushes.failing.add(1)
    with pytest.raises(AuditWriteFailed, match="flush failed"):
        await store.append(disclosure(store, 1))
    assert flushes.threads == ["audit-writer"]
    with pytest.raises(AuditWriteFailed, match="flush failed"):
        await store.append(disclosure(store, 2))  # nothing more committed, nor flushed
    assert writer(store)._committed == 1 and flushes.calls == 1
    for thread in writer(store)._threads:
        if thread.name == "audit-flusher":  # the idle flusher stopped on the failure, not left waiting
            thread.join(30)
            assert not thread.is_alive()
    report = await verify(store)  # the refused answer's record stays: over-recording, the chain intact
    assert report.intact and report.records == 1, report.findings


async def test_records_arriving_during_the_writer_threads_flush_make_one_group_and_one_flush(
    grouped: AuditStore, flushes: Flushes
) -> None:
    await migrate(grouped.engine)
    try:
        flushes.held[1] = threading.Event()
        first = asyncio.ensure_future(grouped.append(disclosure(grouped, 1)))
        await until(lambda: flushes.calls == 1)  # group 1 committed, flushed by the writer thread (held)
        later = [asyncio.ensure_future(grouped.append(disclosure(grouped, n))) for n in range(2, 12)]
        await asyncio.sleep(0.05)
        assert not first.done() and not any(task.done() for task in later)
        flushes.held[1].set()
        assert await first == 1
        assert sorted(await asyncio.gather(*later)) == list(range(2, 12))
        assert grouped.groups.groups == 2 and grouped.groups.largest == 10 and flushes.calls == 2
        assert flushes.threads[0] == "audit-writer"
        report = await verify(grouped)
        assert report.intact and report.records == 11, report.findings
    finally:
        await grouped.aclose()
        await grouped.engine.dispose()


async def test_a_group_committed_while_records_wait_is_flushed_by_the_flusher_as_the_next_commits(
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
    await until(entered.is_set)  # group 1's transaction under way; two more records wait (one a group)
    later = [asyncio.ensure_future(store.append(disclosure(store, n))) for n in (2, 3)]
    await asyncio.sleep(0.01)
    go.set()
    assert [await first, *(await asyncio.gather(*later))] == [1, 2, 3]
    assert flushes.threads[0] == "audit-flusher"  # group 1: others were waiting, so not this thread
    assert writer(store).inline_flushes < 3 and writer(store).flushes == flushes.calls


async def test_closing_the_writer_lets_the_writer_threads_flush_under_way_finish_and_release_its_group(
    store: AuditStore, flushes: Flushes
) -> None:
    flushes.held[1] = threading.Event()
    first = asyncio.ensure_future(store.append(disclosure(store, 1)))
    await until(lambda: flushes.calls == 1)  # committed alone, flushed by the writer thread (held)
    closed = asyncio.get_running_loop().run_in_executor(None, writer(store).close)
    await asyncio.sleep(0.05)
    assert not first.done() and not closed.done()  # not released before its flush, and not dropped
    flushes.held[1].set()
    await closed
    assert await first == 1
    assert flushes.threads == ["audit-writer"]
    with pytest.raises(AuditWriteFailed, match="closed"):
        await store.append(disclosure(store, 2))  # nothing is committed after close


async def test_a_group_committed_soon_after_the_last_flush_is_left_to_the_flusher(
    store: AuditStore, flushes: Flushes
) -> None:
    assert await store.append(disclosure(store, 1)) == 1
    writer(store).lone_gap = 3600.0  # every later group commits within it: a stream, not a lone request
    assert await store.append(disclosure(store, 2)) == 2
    assert await store.append(disclosure(store, 3)) == 3
    assert flushes.threads == ["audit-writer", "audit-flusher", "audit-flusher"]
    assert writer(store).inline_flushes == 1 and writer(store).flushes == 3
