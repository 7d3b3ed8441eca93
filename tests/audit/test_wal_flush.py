"""The SQLite file's writer commits at ``synchronous=NORMAL`` and flushes the write-ahead log itself,
outside the write lock: one flush for every group committed before it started; no request of a
group is released before a flush covering it returned, and a failed flush fails them all."""

from __future__ import annotations

import asyncio
import errno
import os
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from hub.audit import AuditKeys, AuditStore, AuditWriteFailed, verify
from hub.audit import sqlite_writer
from hub.audit.sqlite_writer import SQLiteGroupWriter
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
    seqs = await asyncio.gather(*(store.append(disclosure(store, n)) for n in range(1, 41)))
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


# Hub processes sharing the file (two writers here, each with its own connection, log descriptor and
# mark descriptor: the mark's lock is per open file, so they exclude each other as two processes do).


@pytest.fixture
async def two(tmp_path: Path, key_encryption_key: str) -> AsyncIterator[tuple[AuditStore, AuditStore]]:
    keys = AuditKeys.from_sealer(Sealer(decode_key(key_encryption_key)))
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}"
    first, second = AuditStore(connect(url), keys, max_group=1), AuditStore(connect(url), keys, max_group=1)
    await migrate(first.engine)
    try:
        yield first, second
    finally:
        for audit in (first, second):
            await audit.aclose()
            await audit.engine.dispose()


async def commit(store: AuditStore, n: int) -> int:
    """One record committed by the store's writer, not yet flushed: its ticket."""
    pending = Pending.of(disclosure(store, n), keyed=False)
    written = await writer(store).write(lambda seq, prev: store._chain([pending], seq, prev))
    return written.ticket


async def test_a_commit_covered_by_another_processs_later_flush_is_released_without_a_flush_of_its_own(
    two: tuple[AuditStore, AuditStore], flushes: Flushes
) -> None:
    first, second = two
    earlier = await commit(first, 1)
    later = await commit(second, 2)  # committed after the first's: the second's flush covers both
    await writer(second).durable(later)
    assert flushes.calls == 1
    await writer(first).durable(earlier)
    assert flushes.calls == 1 and writer(first).covered == 1 and writer(first).flushes == 0
    after = await commit(first, 3)  # committed after that flush began: not covered by it
    await writer(first).durable(after)
    assert flushes.calls == 2 and writer(first).flushes == 1
    report = await verify(first)
    assert report.intact and report.records == 3, report.findings


async def test_a_flush_covers_the_other_processs_commits_made_before_it_began(
    two: tuple[AuditStore, AuditStore], flushes: Flushes
) -> None:
    first, second = two
    own = await commit(second, 1)
    others = await commit(first, 2)  # after the second's last commit, before its flush: in the log it flushes
    await writer(second).durable(own)
    await writer(first).durable(others)
    assert flushes.calls == 1 and writer(first).covered == 1


async def test_a_commit_made_while_the_other_processs_flush_runs_waits_for_a_flush_of_its_own(
    two: tuple[AuditStore, AuditStore], flushes: Flushes
) -> None:
    first, second = two
    await first.append(disclosure(first, 1))  # flush 1 (the first's writer opened before the second flushes)
    flushes.held[2] = threading.Event()
    own = await commit(second, 2)
    flushing = asyncio.ensure_future(writer(second).durable(own))
    await until(lambda: flushes.calls == 2)  # the second's flush under way, the head read before it
    during = await commit(first, 3)
    waiting = asyncio.ensure_future(writer(first).durable(during))
    await asyncio.sleep(0.05)
    assert not waiting.done()  # the mark's lock: the first's flush waits for the second's to end
    flushes.held[2].set()
    await flushing
    await waiting
    assert flushes.calls == 3 and writer(first).flushes == 2 and writer(first).covered == 0


async def test_a_flush_that_failed_in_one_process_fails_the_other_until_it_is_restarted(
    two: tuple[AuditStore, AuditStore], flushes: Flushes, tmp_path: Path, key_encryption_key: str
) -> None:
    first, second = two
    await first.append(disclosure(first, 1))  # flush 1: fine
    earlier = await commit(first, 2)  # committed before the failed flush: it covered this frame too
    flushes.failing.add(2)
    with pytest.raises(AuditWriteFailed, match="flush failed"):
        await second.append(disclosure(second, 3))
    with pytest.raises(OSError, match="another hub process"):
        await writer(first).durable(earlier)  # never released, though a flush of its own would succeed
    with pytest.raises(AuditWriteFailed, match="flush failed"):
        await first.append(disclosure(first, 4))
    assert flushes.calls == 2
    # A process started afterwards (the hub restarted) counts failures from there: it writes again.
    keys = AuditKeys.from_sealer(Sealer(decode_key(key_encryption_key)))
    restarted = AuditStore(connect(f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}"), keys)
    try:
        assert await restarted.append(disclosure(restarted, 5)) == 4
        report = await verify(restarted)
        assert report.intact and report.records == 4, report.findings
    finally:
        await restarted.aclose()
        await restarted.engine.dispose()


async def test_a_mark_left_by_an_earlier_database_at_the_same_path_is_not_trusted(
    tmp_path: Path, key_encryption_key: str, flushes: Flushes
) -> None:
    keys = AuditKeys.from_sealer(Sealer(decode_key(key_encryption_key)))
    path = tmp_path / "hub.sqlite"
    for life in (1, 2):
        audit = AuditStore(connect(f"sqlite+aiosqlite:///{path}"), keys, max_group=1)
        await migrate(audit.engine)
        try:
            calls = flushes.calls
            for n in range(1, 4 if life == 1 else 2):
                assert await audit.append(disclosure(audit, n)) == n
            assert flushes.calls > calls  # the second database's seq 1 is flushed, not vouched for by seq 3
        finally:
            await audit.aclose()
            await audit.engine.dispose()
        for suffix in ("", "-wal", "-shm"):  # the database replaced; its mark file left behind
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    assert Path(f"{path}{sqlite_writer.MARK_SUFFIX}").exists()


@pytest.mark.parametrize("garbage", [b"", b"not a mark", os.urandom(sqlite_writer.MARK.size), b"x" * 4096])
async def test_a_mark_file_that_does_not_check_out_is_no_mark(
    store: AuditStore, flushes: Flushes, tmp_path: Path, garbage: bytes
) -> None:
    (tmp_path / f"hub.sqlite{sqlite_writer.MARK_SUFFIX}").write_bytes(garbage)
    assert await store.append(disclosure(store, 1)) == 1
    assert flushes.calls == 1 and writer(store).covered == 0
    mark = writer(store)._mark
    assert mark is not None
    failures, flushed, log = sqlite_writer._read_mark(mark)  # rewritten whole
    assert (failures, flushed) == (0, 1) and log is not None


async def test_a_mark_edited_after_a_failure_was_counted_fails_closed(two: tuple[AuditStore, AuditStore],
                                                                     flushes: Flushes, tmp_path: Path) -> None:
    first, second = two
    await first.append(disclosure(first, 1))
    flushes.failing.add(2)
    with pytest.raises(AuditWriteFailed):
        await first.append(disclosure(first, 2))
    # A writer opened after that failure (a restarted process) counts from it; the count lost, it fails.
    assert await second.append(disclosure(second, 3)) == 3
    (tmp_path / f"hub.sqlite{sqlite_writer.MARK_SUFFIX}").write_bytes(b"edited")
    with pytest.raises(AuditWriteFailed, match="another hub process"):
        await second.append(disclosure(second, 4))


async def test_reading_the_head_for_a_flush_does_not_hold_the_log_back_from_starting_over(
    two: tuple[AuditStore, AuditStore], tmp_path: Path
) -> None:
    first, second = two
    for n in range(1, 5):
        await (first if n % 2 else second).append(disclosure(first, n))
    assert writer(first)._head_reader is not None and writer(second)._head_reader is not None
    checkpoint = sqlite3.connect(tmp_path / "hub.sqlite")
    try:
        busy, _, _ = checkpoint.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        checkpoint.close()
    assert busy == 0  # no reader left in a transaction: the log could be emptied
    assert await first.append(disclosure(first, 5)) == 5  # the log started over: flushed as before
    report = await verify(first)
    assert report.intact and report.records == 5, report.findings
