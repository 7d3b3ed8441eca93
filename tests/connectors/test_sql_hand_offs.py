"""A SQLite department file is read in one hand-off per look-up or page, on the connector's own threads.

Each hand-off to a thread is a wake-up of the event loop and the interpreter's lock given and taken
back; through aiosqlite a statement cost four (cursor, execute, fetch, close). The connector runs a
call's statements (several when its keys exceed ``CHUNK``) in one call on a thread, on a ``sqlite3``
connection of its own pool: these tests count the hand-offs, watch the connections (never two
threads on one, never more than ``SQLITE_THREADS``, all closed by ``aclose``), stop a statement at
its deadline and read again on its connection, and meet files that are missing, corrupt or locked.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import shutil
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import closing
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from connectors.base import Condition, Page, SourceError, UnsupportedQuery
from connectors.binding import Binding
from connectors.sql import CHUNK, SQLITE_THREADS, SqlConnector, _Read
from tests.connectors.conftest import TIMEOUT, slow_binding
from tests.connectors.subjects import read_rows, sqlite_url


class Watched:
    """Every connection a connector opens (``sqlite3.connect``'s ``factory``), and how they are used:
    by which threads, how many statements at once, whether two threads ever shared one."""

    def __init__(self, hold: float = 0.0) -> None:
        self.opened: list[Any] = []
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.shared = 0
        self.ended: list[tuple[float, str | None]] = []  # monotonic end of each statement, its error
        self.hold = hold  # seconds each statement keeps its connection: overlaps get their chance
        watched = self

        class Connection(sqlite3.Connection):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                self.busy = 0
                watched.opened.append(self)

            def execute(self, sql: str, parameters: Any = ()) -> Any:  # type: ignore[override]
                watched.enter(self)
                error = None
                try:
                    rows = super().execute(sql, parameters).fetchall()
                    time.sleep(watched.hold)
                    return Rows(rows)
                except sqlite3.Error as exc:
                    error = str(exc)
                    raise
                finally:
                    watched.leave(self, error)

        self.factory = Connection

    def enter(self, conn: Any) -> None:
        with self.lock:
            conn.busy += 1
            self.shared += conn.busy > 1
            self.running += 1
            self.most = max(self.most, self.running)

    def leave(self, conn: Any, error: str | None) -> None:
        with self.lock:
            conn.busy -= 1
            self.running -= 1
            self.ended.append((time.monotonic(), error))


class Rows:
    def __init__(self, rows: list[Any]) -> None:
        self.rows = rows

    def fetchall(self) -> list[Any]:
        return self.rows


def watch(connector: SqlConnector, hold: float = 0.0) -> Watched:
    watched = Watched(hold)
    assert connector._file is not None, "a SQLite file is read on the connector's own threads"
    connector._file._options["factory"] = watched.factory
    return watched


def hand_offs(connector: SqlConnector) -> list[int]:
    """Each call handed to a reading thread, counted."""
    assert connector._file is not None
    counted: list[int] = []
    read = connector._file._read

    def counting(*args: Any) -> Any:
        counted.append(1)
        return read(*args)

    connector._file._read = counting  # type: ignore[method-assign]
    return counted


@pytest.fixture
def aiosqlite_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement aiosqlite is asked for, counted."""
    counted: list[str] = []
    original = aiosqlite.Connection.execute

    async def execute(self: aiosqlite.Connection, sql: str, *args: Any) -> Any:
        counted.append(sql)
        return await original(self, sql, *args)

    monkeypatch.setattr(aiosqlite.Connection, "execute", execute)
    return counted


@pytest.fixture
async def market(bindings: dict[str, Binding], demo_data_dir: Path) -> AsyncIterator[Callable[..., SqlConnector]]:
    """Market connectors over the demo file (or ``url``), each closed after the test."""
    made: list[SqlConnector] = []

    def make(url: str | None = None, binding: Binding | None = None) -> SqlConnector:
        connector = SqlConnector(binding or bindings["market"], url=url or sqlite_url(demo_data_dir, "market"))
        made.append(connector)
        return connector

    yield make
    for connector in made:
        await connector.aclose()


def usccs(demo_data_dir: Path) -> list[str]:
    return [row["uscc"] for row in read_rows(demo_data_dir / "market.sqlite", "enterprises")]


async def test_a_look_up_of_more_keys_than_a_statement_takes_is_one_hand_off(
    market: Callable[..., SqlConnector], demo_data_dir: Path, aiosqlite_calls: list[str],
) -> None:
    connector = market()
    counted, seen = hand_offs(connector), []
    connector.observe(lambda sql, parameters: seen.append((sql, parameters)))
    known = usccs(demo_data_dir)
    keys = known + [f"{i:018d}" for i in range(CHUNK * 2 + 5 - len(known))]  # the rest no enterprise's
    try:
        found = await connector.fetch("enterprise", "uscc", keys)
        assert sorted(record["uscc"] for record in found) == sorted(known)
        assert len(counted) == 1 and len(seen) == 3, "three statements, one hand-off"
        page = await connector.select("enterprise", [Condition("region_code", "prefix", "13")],
                                      Page(order_by="uscc", limit=5))
        assert len(page) == 5 and [r["uscc"] for r in page] == sorted(r["uscc"] for r in page)
        assert len(counted) == 2 and len(seen) == 4
        assert aiosqlite_calls == [], "aiosqlite is never asked"
    finally:
        await connector.aclose()


async def test_the_observer_sees_each_statement_and_its_parameters_until_stopped(
    market: Callable[..., SqlConnector], demo_data_dir: Path,
) -> None:
    connector = market()
    seen: list[tuple[str, Any]] = []
    stop = connector.observe(lambda sql, parameters: seen.append((sql, parameters)))
    first, second = usccs(demo_data_dir)[:2]
    try:
        await connector.fetch("enterprise", "uscc", [first, second, first])
        [(sql, parameters)] = seen
        assert " ".join(sql.split()).startswith("SELECT enterprises.uscc AS uscc")
        assert "IN (?, ?)" in sql and list(parameters) == [first, second]
        await connector.select("enterprise", [Condition("region_code", "prefix", "13_%")],
                               Page(order_by="uscc", limit=7, after=first))
        sql, parameters = seen[-1]
        assert "LIKE ? ESCAPE" in sql and "LIMIT ?" in sql
        assert list(parameters)[:3] == ["13\\_\\%%", first, 7]
        stop()
        await connector.fetch("enterprise", "uscc", [first])
        assert len(seen) == 2
    finally:
        await connector.aclose()


async def test_many_look_ups_at_once_never_share_a_connection_and_the_pool_is_bounded(
    market: Callable[..., SqlConnector], demo_data_dir: Path,
) -> None:
    connector = market()
    watched = watch(connector, hold=0.005)
    keys = usccs(demo_data_dir)[:200]
    try:
        answers = await asyncio.gather(*(connector.fetch("enterprise", "uscc", keys[i : i + 3]) for i in range(0, 180, 3)))
        assert [sorted(r["uscc"] for r in answer) for answer in answers] == [sorted(keys[i : i + 3]) for i in range(0, 180, 3)]
        assert watched.shared == 0, "a connection used by two threads at once"
        assert 1 < watched.most <= SQLITE_THREADS
        assert 1 < len(watched.opened) <= SQLITE_THREADS
    finally:
        await connector.aclose()
    for conn in watched.opened:
        with pytest.raises(sqlite3.ProgrammingError):  # closed
            conn.total_changes  # noqa: B018
    # Closed is not dead: the next call opens what it needs again.
    assert len(await connector.fetch("enterprise", "uscc", keys[:2])) == 2
    await connector.aclose()


async def test_a_slow_statement_is_interrupted_at_the_deadline_and_its_connection_reads_again(
    market: Callable[..., SqlConnector], bindings: dict[str, Binding], sqlite_slow_dir: Path, demo_data_dir: Path,
) -> None:
    connector = market(sqlite_url(sqlite_slow_dir, "market"), slow_binding(bindings["market"]))
    watched = watch(connector)
    uscc = usccs(demo_data_dir)[0]
    try:
        started = time.monotonic()
        with pytest.raises(SourceError) as raised:
            await connector.fetch("enterprise", "uscc", [uscc])
        answered = time.monotonic()
        assert (raised.value.side, raised.value.department) == ("provider", "market")
        assert raised.value.reason == f"timed out after {TIMEOUT} s"
        assert answered - started < TIMEOUT + 0.2
        for _ in range(50):  # the view alone runs for seconds: stopped, it ends at once
            if watched.ended:
                break
            await asyncio.sleep(0.01)
        [(ended, error)] = watched.ended
        assert error == "interrupted" and ended - answered < 0.3
        # The same connection, usable: the next read on it answers.
        listed = await connector.fetch("abnormal_operation", "uscc", [uscc])
        assert listed == await market().fetch("abnormal_operation", "uscc", [uscc])
        assert len(watched.opened) == 1 and len(watched.ended) == 2 and watched.ended[-1][1] is None
    finally:
        await connector.aclose()


async def test_a_call_that_waited_for_a_thread_past_its_deadline_never_runs(
    market: Callable[..., SqlConnector], bindings: dict[str, Binding], demo_data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("connectors.sql.SQLITE_THREADS", 1)
    connector = market(binding=bindings["market"].with_source(timeout=TIMEOUT))
    watched = watch(connector)
    keys = usccs(demo_data_dir)[:2]
    assert len(await connector.fetch("enterprise", "uscc", keys)) == 2
    assert connector._file is not None and connector._file._threads is not None
    busy = threading.Event()
    connector._file._threads.submit(busy.wait, 5)  # the one thread taken
    started = time.monotonic()
    with pytest.raises(SourceError) as raised:
        await connector.fetch("enterprise", "uscc", keys)
    assert raised.value.reason == f"timed out after {TIMEOUT} s" and time.monotonic() - started < TIMEOUT + 0.2
    busy.set()
    await asyncio.sleep(0.1)
    assert len(watched.ended) == 1, "the call past its deadline ran no statement once the thread was free"
    assert len(await connector.fetch("enterprise", "uscc", keys)) == 2
    # A thread may take the call just before its cancellation reaches the queue: it runs nothing.
    late = _Read()
    late.expired = True
    assert connector._file._read(late, [connector._by_keys_plan("enterprise", "uscc", keys)]) == []
    assert len(watched.ended) == 2


@pytest.mark.parametrize("damage", ["missing directory", "missing file", "corrupt", "not a file"])
async def test_a_missing_or_corrupt_file_is_the_departments_failure(
    market: Callable[..., SqlConnector], demo_data_dir: Path, tmp_path: Path, damage: str,
) -> None:
    path = tmp_path / "market.sqlite"
    if damage == "missing directory":
        path = tmp_path / "gone" / "market.sqlite"
    elif damage == "corrupt":
        path.write_bytes(b"not a database, whatever its name says " * 200)
    elif damage == "not a file":
        path.mkdir()
    connector = market(f"sqlite+aiosqlite:///{path}")
    try:
        with pytest.raises(SourceError) as raised:
            await connector.fetch("enterprise", "uscc", usccs(demo_data_dir)[:2])
        error = raised.value
        assert (error.code, error.side, error.department) == ("SOURCE_UNAVAILABLE", "provider", "market")
        assert error.reason.startswith("database error (") and str(path) not in error.reason
        with pytest.raises(SourceError):  # and again, on the same pool
            await connector.select("enterprise", [], Page(order_by="uscc", limit=2))
    finally:
        await connector.aclose()


async def test_a_file_a_writer_holds_locked_fails_by_the_deadline_and_reads_once_released(
    bindings: dict[str, Binding], demo_data_dir: Path, tmp_path: Path,
) -> None:
    path = tmp_path / "market.sqlite"
    shutil.copy(demo_data_dir / "market.sqlite", path)
    with closing(sqlite3.connect(path, isolation_level=None)) as writer:
        writer.execute("PRAGMA journal_mode = DELETE")  # not WAL: readers wait for a writer's lock
        connector = SqlConnector(bindings["market"].with_source(timeout=TIMEOUT), url=f"sqlite+aiosqlite:///{path}")
        watched = watch(connector)
        keys = usccs(demo_data_dir)[:2]
        try:
            writer.execute("BEGIN EXCLUSIVE")
            started = time.monotonic()
            with pytest.raises(SourceError) as raised:
                await connector.fetch("enterprise", "uscc", keys)
            assert time.monotonic() - started < TIMEOUT + 0.2
            error = raised.value
            assert (error.code, error.side, error.department) == ("SOURCE_UNAVAILABLE", "provider", "market")
            assert error.reason in (f"timed out after {TIMEOUT} s", "database error (OperationalError)")
            for _ in range(50):  # SQLite's wait for the lock ignores interrupt(): it ends at the timeout
                if watched.ended:
                    break
                await asyncio.sleep(0.02)
            assert watched.ended and time.monotonic() - started < TIMEOUT + 0.5
            writer.execute("ROLLBACK")
            assert len(await connector.fetch("enterprise", "uscc", keys)) == 2
        finally:
            await connector.aclose()


async def test_a_url_opening_the_file_read_only_is_opened_so(
    market: Callable[..., SqlConnector], demo_data_dir: Path,
) -> None:
    connector = market(f"sqlite+aiosqlite:///file:{demo_data_dir / 'market.sqlite'}?mode=ro&uri=true")
    try:
        assert len(await connector.fetch("enterprise", "uscc", usccs(demo_data_dir)[:3])) == 3
        assert connector._file is not None
        [conn] = connector._file._opened
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            conn.execute("CREATE TABLE written (x)")
    finally:
        await connector.aclose()


async def test_in_memory_sqlite_stays_on_the_engine(bindings: dict[str, Binding]) -> None:
    connector = SqlConnector(bindings["market"], url="sqlite+aiosqlite://")
    try:
        assert connector._file is None
        seen: list[str] = []
        connector.observe(lambda sql, parameters: seen.append(sql))
        with pytest.raises(SourceError):  # an empty database: no such table
            await connector.fetch("enterprise", "uscc", ["x"])
        assert len(seen) == 1 and "FROM enterprises" in seen[0]
    finally:
        await connector.aclose()


async def test_a_page_checks_every_condition_before_deciding_it_needs_no_statement(
    market: Callable[..., SqlConnector],
) -> None:
    connector = market()
    try:
        with pytest.raises(UnsupportedQuery):
            await connector.select("enterprise", [Condition("status", "in", []), Condition("shoe_size", "eq", 1)],
                                   Page(order_by="uscc", limit=2))
        with pytest.raises(UnsupportedQuery):
            await connector.select("enterprise", [Condition("status", "like", "x")],  # type: ignore[arg-type]
                                   Page(order_by="uscc", limit=2))
        assert await connector.select("enterprise", [Condition("status", "in", [])], Page(order_by="uscc", limit=2)) == []
    finally:
        await connector.aclose()


async def test_dates_and_decimals_in_conditions_are_compared_as_the_engine_binds_them(
    market: Callable[..., SqlConnector],
) -> None:
    connector = market()
    page = Page(order_by="uscc", limit=50)
    try:
        as_text = await connector.select("enterprise", [Condition("registration_date", "gte", "2015-01-01")], page)
        as_date = await connector.select("enterprise", [Condition("registration_date", "gte", dt.date(2015, 1, 1))], page)
        assert as_text and as_date == as_text
        sizes = await connector.select("enterprise", [Condition("registered_capital", "gte", 1000)], page)
        assert sizes and await connector.select("enterprise", [Condition("registered_capital", "gte", Decimal(1000))], page) == sizes
    finally:
        await connector.aclose()


async def test_two_calls_taking_the_last_idle_connection_at_once_both_read(
    market: Callable[..., SqlConnector], demo_data_dir: Path,
) -> None:
    connector = market()
    first, second = usccs(demo_data_dir)[:2]
    assert len(await connector.fetch("enterprise", "uscc", [first])) == 1  # one connection, idle now
    assert connector._file is not None
    both = threading.Barrier(2, timeout=2)

    class Racing(list):  # type: ignore[type-arg]
        def __bool__(self) -> bool:  # both calls find the connection idle before either takes it
            idle = len(self) > 0
            with contextlib.suppress(threading.BrokenBarrierError):
                both.wait()
            return idle

    connector._file._idle = Racing(connector._file._idle)
    answers = await asyncio.gather(*(connector.fetch("enterprise", "uscc", [key]) for key in (first, second)))
    assert [[record["uscc"] for record in answer] for answer in answers] == [[first], [second]]


async def test_a_look_up_arriving_while_the_connector_closes_is_the_departments_failure(
    market: Callable[..., SqlConnector], demo_data_dir: Path,
) -> None:
    """``aclose`` waits for the call on its threads; one arriving meanwhile gets the connector's own
    ``SourceError``: it opens no connection and starts no thread that outlive ``aclose``, and leaves
    no closed connection in the pool for the calls after it."""
    connector = market()
    watched = watch(connector, hold=0.3)  # the first call keeps its connection while the close begins
    keys = usccs(demo_data_dir)[:2]
    before = set(threading.enumerate())
    first = asyncio.ensure_future(connector.fetch("enterprise", "uscc", keys[:1]))
    for _ in range(500):  # a hang guard, not a speed check
        if watched.running:
            break
        await asyncio.sleep(0.01)
    assert watched.running == 1
    closing = asyncio.ensure_future(connector.aclose())
    await asyncio.sleep(0)  # the close under way: its threads are being shut down
    assert not closing.done()
    with pytest.raises(SourceError) as raised:
        await asyncio.wait_for(connector.fetch("enterprise", "uscc", keys[1:]), 30)
    assert (raised.value.department, raised.value.side) == ("market", "provider")
    assert raised.value.reason == "the connector is closing"
    assert [record["uscc"] for record in await first] == keys[:1]  # the call under way answers
    await asyncio.wait_for(closing, 30)
    assert len(watched.opened) == 1
    for conn in watched.opened:
        with pytest.raises(sqlite3.ProgrammingError):  # closed
            conn.total_changes  # noqa: B018
    assert [thread for thread in set(threading.enumerate()) - before if thread.name.startswith("sqlite-")] == []
    # Closed is not dead: the next call opens what it needs again, and finds no closed connection.
    watched.hold = 0.0
    assert sorted(record["uscc"] for record in await connector.fetch("enterprise", "uscc", keys)) == sorted(keys)


@pytest.fixture(params=["postgres_sources", "mariadb_sources"])
def server_url(request: pytest.FixtureRequest) -> str:
    """The demo's departments on a database server, read through SQLAlchemy's engine."""
    url: str = request.getfixturevalue(request.param)
    return url


async def test_a_null_in_a_condition_or_a_key_selects_the_same_records_from_the_file_and_the_engine(
    market: Callable[..., SqlConnector], server_url: str, demo_data_dir: Path,
) -> None:
    """A condition's null compared as every other value is, a parameter, on both paths: SQLAlchemy
    would write ``= NULL`` as ``IS NULL`` and refuse ``>= NULL``, where the file's statement binds it
    (no record matches). The same for a look-up's null key. The graph builds neither today."""
    in_file, on_server = market(), market(server_url)
    ended = next(row["term_to"] for row in read_rows(demo_data_dir / "market.sqlite", "enterprises") if row["term_to"])
    conditions = [
        [Condition("term_to", "eq", None)],
        [Condition("term_to", "in", [None])],
        [Condition("term_to", "in", [None, ended])],
        [Condition("term_to", "gte", None)],
        [Condition("term_to", "lte", None)],
        [Condition("term_to", "eq", ended)],  # a value: the same records both ways, and some
    ]
    page = Page(limit=5000, order_by="uscc")
    for where in conditions:
        answers = [sorted(r["uscc"] for r in await c.select("enterprise", where, page)) for c in (in_file, on_server)]
        assert answers[0] == answers[1], where
        assert bool(answers[0]) == (where[0].value == ended or where[0].value == [None, ended]), where
    for connector in (in_file, on_server):
        assert await connector.fetch("enterprise", "legal_rep_id", [None]) == []
        assert await connector.fetch("enterprise", "term_to", [None]) == []
