"""The SQL connector: a department database read through SQLAlchemy 2 async Core.

Tables are described from the binding alone (lightweight ``table()``/``column()`` constructs with
the department's column names), so start-up needs no reflection round trip and a column the binding
does not name is never read; a page that names its ``fields`` reads only their columns. Every
statement uses bound parameters.

A department's SQLite *file* is read on threads of the connector's own instead
(``SqliteFile``): each look-up or page is one hand-off to a thread, which runs its statements on a
plain ``sqlite3`` connection and builds the records there. The SQL is SQLAlchemy's, compiled once
per statement shape from the same ``Select`` constructs. In-memory SQLite, PostgreSQL and
MariaDB/MySQL go through SQLAlchemy's engine. ``observe`` shows the statements either way.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import socket
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import BindParameter, ColumnElement, Select, TableClause, bindparam, column, event, select, table
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from connectors.base import Condition, Op, Page, Record, SourceError, UnsupportedQuery
from connectors.binding import Binding, EntityBinding
from connectors.bound import BoundConnector

# A value is always a bound parameter, None too: as a SQLite file's statement binds it (``_page_plan``),
# a null matches no record. A bare None would make SQLAlchemy write ``= NULL`` as ``IS NULL`` (and
# refuse ``>= NULL``), so the two ways of reading a database would answer differently.
_OPERATORS: dict[Op, Callable[[ColumnElement[Any], Any], ColumnElement[bool]]] = {
    "eq": lambda col, value: col == _parameter(value),
    "in": lambda col, values: col.in_(_values(values)),
    # % and _ in the prefix are the caller's text, not wildcards.
    "prefix": lambda col, prefix: col.like(_escape_like(str(prefix)) + "%", escape="\\"),
    "gte": lambda col, value: col >= _parameter(value),
    "lte": lambda col, value: col <= _parameter(value),
}
OPS: frozenset[Op] = frozenset(_OPERATORS)
# Databases cap bound parameters per statement (SQLite 32766, PostgreSQL 32767 in total); 1000 keys
# per IN list stays far below every cap while keeping one statement for every realistic batch.
CHUNK = 1000
# Page statements kept, one per entity and set of columns asked (documents choose the columns).
MAX_STATEMENTS = 256
# Threads (and so connections) a SQLite file is read with at most; more look-ups at once wait for
# one, within their deadline. As many as the engine's pool keeps for the other backends.
SQLITE_THREADS = 10
_KEY_NAMES = tuple(f"k{i}" for i in range(CHUNK))  # a look-up statement's parameters

# Called with a statement's SQL text and its parameters just before it is sent (``observe``).
Observer = Callable[[str, Any], None]


class SqlConnector(BoundConnector):
    """A department's relational database (SQLite, PostgreSQL, MariaDB/MySQL)."""

    kind = "sql"

    def __init__(self, binding: Binding, url: str | None = None) -> None:
        super().__init__(binding)
        resolved = make_url(url or binding.resolved_url())
        self._engine = _engine_for(resolved)
        self._sqlite = self._engine.dialect.name == "sqlite"
        self._interrupts: set[asyncio.Task[None]] = set()
        self._observers: list[Observer] = []
        self._listening = False
        self._tables = {name: _table_for(entity) for name, entity in binding.entities.items()}
        # Statements built once per entity (and key field): SQLAlchemy then finds each one's compiled
        # form in its cache by identity instead of building and hashing a new statement per call.
        self._selects: dict[tuple[str, frozenset[str] | None], Select[Any]] = {}
        self._by_keys: dict[tuple[str, str, int], Select[Any]] = {}
        # A SQLite file's statements as SQL text, compiled once per shape (look-ups: entity, field
        # and size class; pages: entity, columns, conditions' fields, operators and value counts).
        self._file = SqliteFile(self.department, resolved, self._engine, self.timeout, self._observers) \
            if _is_sqlite_file(resolved) else None
        self._plans: dict[Any, _Plan] = {}

    def observe(self, observer: Observer) -> Callable[[], None]:
        """Have ``observer(sql, parameters)`` called for every statement sent to the department's
        database from now on, on the event loop's thread just before it is sent; the function
        returned stops it. For tests and diagnostics: the same SQL text whichever way the database
        is read (a SQLite file's parameters a tuple; the engine's as its driver takes them)."""
        self._observers.append(observer)
        if self._file is None and not self._listening:
            event.listen(self._engine.sync_engine, "before_cursor_execute", self._seen)
            self._listening = True
        return lambda: self._observers.remove(observer)

    def _seen(self, conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        for observer in list(self._observers):
            observer(statement, parameters)

    def supports(self, entity: str, field: str, op: Op) -> bool:
        bound = self.binding.entities.get(entity)
        return bound is not None and field in bound.fields and op in OPS

    async def fetch(self, entity: str, field: str, keys: Sequence[Any]) -> list[Record]:
        unique = list(dict.fromkeys(keys))
        self._column(entity, field)  # a field the binding lacks fails before any call
        if not unique:
            return []
        chunks = _chunks(unique, CHUNK)
        if self._file is not None:
            return await self._file.run([self._by_keys_plan(entity, field, chunk) for chunk in chunks], self.timeout)
        return await self._run([self._by_keys_of(entity, field, chunk) for chunk in chunks])

    def _by_keys_statement(self, entity: str, field: str, size: int) -> Select[Any]:
        statement = self._by_keys.get((entity, field, size))
        if statement is None:
            match = self._column(entity, field)
            statement = self._by_keys[(entity, field, size)] = self._select(entity).where(
                match.in_([bindparam(name) for name in _KEY_NAMES[:size]]))
        return statement

    def _by_keys_of(self, entity: str, field: str, keys: list[Any]) -> tuple[Select[Any], dict[str, Any]]:
        """The statement for ``keys`` (at most ``CHUNK``) and its parameters.

        One statement per size class (1, 2, 4 ... keys, then ``CHUNK``), built and compiled once,
        the last key repeated up to its size: ``IN`` answers a repeated value once. An expanding
        parameter would render the list into the SQL on every call (about 70 us a statement).
        """
        size = _size_class(len(keys))
        statement = self._by_keys_statement(entity, field, size)
        return statement, dict(zip(_KEY_NAMES[:size], _padded(keys, size), strict=True))

    def _by_keys_plan(self, entity: str, field: str, keys: list[Any]) -> tuple[_Plan, Sequence[Any]]:
        """``_by_keys_of`` as SQL text and its parameters in order, for a SQLite file."""
        size = _size_class(len(keys))
        plan = self._plans.get((entity, field, size))
        if plan is None:
            names = _KEY_NAMES[:size]
            plan = self._plans[(entity, field, size)] = self._plan(self._by_keys_statement(entity, field, size), names)
        return plan, plan.arguments(_padded(keys, size))

    async def select(self, entity: str, where: Sequence[Condition], page: Page) -> list[Record]:
        if page.limit < 1:
            raise UnsupportedQuery(self.department, "page limit must be at least 1")
        order = self._column(entity, page.order_by)
        if self._file is not None:
            found = self._page_plan(entity, order, where, page)
            return [] if found is None else await self._file.run([found], self.timeout)
        clauses = [self._clause(entity, condition) for condition in where]
        if any(condition.op == "in" and not _values(condition.value) for condition in where):
            return []  # "one of no values" holds for no record: no statement needed
        if page.after is not None:
            clauses.append(order > page.after)
        statement = self._select(entity, page.fields).where(*clauses).order_by(order).limit(page.limit)
        return await self._run([(statement, None)])

    def _page_plan(
        self, entity: str, order: ColumnElement[Any], where: Sequence[Condition], page: Page,
    ) -> tuple[_Plan, Sequence[Any]] | None:
        """A page's statement for a SQLite file, as ``select`` builds it for the engine, with every
        value a parameter: SQL text compiled once per shape and the values in its order (None: an
        ``in`` of no values, which no record matches)."""
        values: list[Any] = []
        shape: list[tuple[str, Op, int]] = []
        matches_none = False
        for condition in where:
            if condition.op not in OPS:
                raise UnsupportedQuery(self.department, f"operator {condition.op!r} is not supported")
            self._column(entity, condition.field)  # a field the binding lacks fails, as _clause does
            if condition.op == "in":
                listed = _values(condition.value)
                if not listed:
                    matches_none = True  # "one of no values" holds for no record: no statement needed
                    continue
                size = _size_class(len(listed))
                values.extend(_bound(value) for value in _padded(listed, size))
            elif condition.op == "prefix":
                size = 1
                values.append(_escape_like(str(condition.value)) + "%")
            else:
                size = 1
                values.append(_bound(condition.value))
            shape.append((condition.field, condition.op, size))
        if matches_none:
            return None
        if page.after is not None:
            values.append(_bound(page.after))
        values.append(page.limit)
        key = (entity, page.fields, page.order_by, page.after is not None, tuple(shape))
        plan = self._plans.get(key)
        if plan is None:
            names = [f"v{i}" for i in range(len(values))]
            slots = iter(names)
            clauses: list[ColumnElement[bool]] = []
            for field, op, size in shape:
                col = self._column(entity, field)
                if op == "in":
                    clauses.append(col.in_([bindparam(next(slots)) for _ in range(size)]))
                elif op == "prefix":
                    clauses.append(col.like(bindparam(next(slots)), escape="\\"))
                else:
                    clauses.append(_OPERATORS[op](col, bindparam(next(slots))))
            if page.after is not None:
                clauses.append(order > bindparam(next(slots)))
            limit: ColumnElement[Any] = bindparam(next(slots))
            statement = self._select(entity, page.fields).where(*clauses).order_by(order).limit(limit)
            if len(self._plans) >= MAX_STATEMENTS:
                self._plans.clear()  # many documents, each its own shapes: compiled again when asked
            plan = self._plans[key] = self._plan(statement, names)
        return plan, plan.arguments(values)

    def _plan(self, statement: Select[Any], names: Sequence[str]) -> _Plan:
        compiled = statement.compile(dialect=self._engine.dialect)
        order = compiled.positiontup or []
        position = {name: index for index, name in enumerate(names)}
        # Parameters SQLAlchemy adds of its own (SQLite's OFFSET 0 after a LIMIT) keep their value.
        slots = tuple(position.get(name, -1) for name in order)
        constants = tuple(None if name in position else compiled.binds[name].effective_value for name in order)
        identity = slots == tuple(range(len(names)))
        return _Plan(compiled.string, list(statement.selected_columns.keys()), None if identity else slots, constants)

    async def aclose(self) -> None:
        if self._file is not None:
            await self._file.aclose()
        await self._engine.dispose()

    def _column(self, entity: str, field: str) -> ColumnElement[Any]:
        bound = self._entity(entity)
        if field not in bound.fields:
            raise UnsupportedQuery(self.department, f"no field {field!r} on {entity!r} in the binding")
        return self._tables[entity].c[bound.fields[field]]

    def _select(self, entity: str, only: frozenset[str] | None = None) -> Select[Any]:
        """The entity's columns as graph fields: all of them, or those named in ``only`` (a page's
        ``fields``; one of the binding's fields at least, so that a row is never empty)."""
        found = self._selects.get((entity, only))
        if found is None:
            source = self._tables[entity]
            fields = self._entity(entity).fields
            chosen = [graph for graph in fields if only is None or graph in only] or list(fields)
            found = select(*(source.c[fields[graph]].label(graph) for graph in chosen))
            if len(self._selects) >= MAX_STATEMENTS:
                self._selects.clear()  # many documents, each its own columns: built again when asked
            self._selects[(entity, only)] = found
        return found

    def _clause(self, entity: str, condition: Condition) -> ColumnElement[bool]:
        build = _OPERATORS.get(condition.op)
        if build is None:
            raise UnsupportedQuery(self.department, f"operator {condition.op!r} is not supported")
        return build(self._column(entity, condition.field), condition.value)

    async def _run(self, statements: Sequence[tuple[Select[Any], dict[str, Any] | None]]) -> list[Record]:
        records: list[Record] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        try:
            # Written out rather than as context managers of our own: each costs a generator and its
            # __aenter__/__aexit__ awaits on every statement, about a tenth of a key look-up's own CPU.
            async with asyncio.timeout_at(deadline), self._engine.connect() as conn:
                interrupt = await self._interrupt_at(deadline, conn, loop) if self._sqlite else None
                try:
                    for statement, parameters in statements:
                        result = await conn.execute(statement, parameters)
                        records.extend(_records(list(result.keys()), result.all()))
                finally:
                    if interrupt is not None:
                        interrupt.cancel()
        except TimeoutError as exc:
            raise SourceError(self.department, "provider", f"timed out after {self.timeout} s") from exc
        except (SQLAlchemyError, OSError) as exc:
            raise SourceError(self.department, "provider", _reason(exc)) from exc
        return records

    async def _interrupt_at(
        self, deadline: float, conn: AsyncConnection, loop: asyncio.AbstractEventLoop,
    ) -> asyncio.TimerHandle:
        """An in-memory SQLite connection's statement stopped at the deadline, not only awaited
        (cancel the handle before the connection goes back to the pool).

        aiosqlite runs the statement on a thread of its own, which cancelling the await does not
        stop, and SQLAlchemy's clean-up of the cancelled connection queues behind it: the caller
        would wait for the whole statement. ``interrupt()`` is SQLite's thread-safe way to end it.
        """
        sync = conn.sync_connection
        # Just checked out: its pooled connection is at hand without the hop to the driver's side
        # that ``get_raw_connection`` takes (about 10 us a statement); otherwise that hop.
        raw = sync.connection if sync is not None and not sync.invalidated else await conn.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None  # a checked-out connection always has one

        def interrupt() -> None:
            task = loop.create_task(driver.interrupt())
            self._interrupts.add(task)  # a task nobody references may be collected unfinished
            task.add_done_callback(self._interrupts.discard)

        return loop.call_at(deadline, interrupt)


class _Plan(NamedTuple):
    """A statement compiled for a SQLite file: its SQL text, its result's columns (graph field
    names) and where each of its parameters comes from (``slots``: an index into the call's values,
    or -1 for ``constants``' value at that position; None: the values in order, nothing added)."""

    sql: str
    columns: list[str]
    slots: tuple[int, ...] | None
    constants: tuple[Any, ...]

    def arguments(self, values: Sequence[Any]) -> Sequence[Any]:
        if self.slots is None:
            return values
        return tuple(values[slot] if slot >= 0 else constant
                     for slot, constant in zip(self.slots, self.constants, strict=True))


class _Read:
    """One look-up's or page's stay on a reading thread: the connection it runs on while it runs,
    and whether its deadline has passed (then it starts no further statement)."""

    __slots__ = ("conn", "expired")

    def __init__(self) -> None:
        self.conn: sqlite3.Connection | None = None
        self.expired = False


class SqliteFile:
    """A department's SQLite file, read on at most ``SQLITE_THREADS`` threads of the connector's own.

    A look-up's or page's statements (more than one when its keys exceed ``CHUNK``) run in **one**
    call on a thread, on a ``sqlite3`` connection taken from the file's own pool for that call
    alone, and their records are built there: one hand-off and one wake-up of the event loop per
    call, where aiosqlite took four per statement (cursor, execute, fetch, close) and SQLAlchemy's
    result wrapped every row (docs/architecture.md, "Performance"; bench/README.md, "A and C stage
    by stage"). Connections are opened as the engine would open them (the URL's file and options,
    ``sqlite3``'s own autocommit for reads), on the thread that first needs one; a connection is
    only ever used by the one call that took it, and there are never more connections than threads.
    At the deadline the caller gets its ``SourceError`` and the thread's statement is stopped with
    SQLite's ``interrupt()``; the connection then serves the next call.
    """

    def __init__(
        self, department: str, url: URL, engine: AsyncEngine, timeout: float, observers: list[Observer],
    ) -> None:
        self.department = department
        self._observers = observers  # the connector's own list: observe() adds and removes there
        [database], options = engine.dialect.create_connect_args(url)
        self._database: str = database
        # No transaction for reads (sqlite3 opens none for a SELECT anyway); any thread of ours may
        # use a connection, one at a time; a file locked by a writer is waited for no longer than
        # the connector's timeout (SQLite's wait ignores interrupt()), unless the URL says.
        self._options: dict[str, Any] = {
            **options, "isolation_level": None, "check_same_thread": False,
            "timeout": options.get("timeout", timeout),
        }
        self._threads: concurrent.futures.ThreadPoolExecutor | None = None
        self._idle: list[sqlite3.Connection] = []  # list.pop and append are atomic: no lock (``_read``)
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()  # a call's connection, against an interrupt meant for the call before
        self._closing = False  # ``aclose`` under way: a call now would start threads and use connections it closes

    async def run(self, plans: Sequence[tuple[_Plan, Sequence[Any]]], seconds: float) -> list[Record]:
        if self._closing:
            raise SourceError(self.department, "provider", "the connector is closing")
        for observer in self._observers:
            for plan, arguments in plans:
                observer(plan.sql, arguments)
        loop = asyncio.get_running_loop()
        threads = self._threads
        if threads is None:
            threads = self._threads = concurrent.futures.ThreadPoolExecutor(
                SQLITE_THREADS, thread_name_prefix=f"sqlite-{self.department}")
        read = _Read()
        try:
            async with asyncio.timeout_at(loop.time() + seconds):
                return await loop.run_in_executor(threads, self._read, read, plans)
        except TimeoutError as exc:
            self._stop(read, loop)
            raise SourceError(self.department, "provider", f"timed out after {seconds} s") from exc
        except sqlite3.Error as exc:
            raise SourceError(self.department, "provider", f"database error ({type(exc).__name__})") from exc
        except asyncio.CancelledError:  # nobody awaits the answer any more: its thread stops too
            self._stop(read, loop)
            raise

    def _read(self, read: _Read, plans: Sequence[tuple[_Plan, Sequence[Any]]]) -> list[Record]:
        """On a reading thread: every statement of the call, the records built here."""
        try:  # taken in one step: two calls that both found one connection idle must not both pop it
            conn = self._idle.pop()
        except IndexError:
            conn = self._open()
        try:
            with self._lock:
                if read.expired:  # waited for a thread past its deadline: nobody awaits it now
                    return []
                read.conn = conn
            records: list[Record] = []
            for plan, arguments in plans:
                if read.expired:
                    raise sqlite3.OperationalError("interrupted")
                records.extend(_records(plan.columns, conn.execute(plan.sql, arguments).fetchall()))
            return records
        finally:
            with self._lock:
                read.conn = None
            self._idle.append(conn)

    def _open(self) -> sqlite3.Connection:
        conn: sqlite3.Connection = sqlite3.connect(self._database, **self._options)
        self._opened.append(conn)
        return conn

    def _stop(self, read: _Read, loop: asyncio.AbstractEventLoop) -> None:
        """The call's statements ended: no further one started, the running one interrupted.

        An interrupt that comes just before a statement starts is lost (SQLite clears it when a
        statement starts on an idle connection), so it is repeated until the call lets go of its
        connection; on an idle connection it is harmless.
        """
        with self._lock:
            read.expired = True
            conn = read.conn
            if conn is not None:
                conn.interrupt()
        if conn is not None:
            loop.call_later(0.01, self._stop, read, loop)

    async def aclose(self) -> None:
        """Every connection closed, once the calls on its threads are over (each ends by its deadline).
        A call arriving meanwhile fails (``run``); once closed, the next call opens what it needs again."""
        threads, self._threads = self._threads, None
        self._closing = True
        try:
            if threads is not None:
                await asyncio.get_running_loop().run_in_executor(None, threads.shutdown)
            opened, self._opened, self._idle = self._opened, [], []
            for conn in opened:
                conn.close()
        finally:
            self._closing = False


def _is_sqlite_file(url: URL) -> bool:
    database = url.database or ""
    return url.get_backend_name() == "sqlite" and database not in ("", ":memory:") and "mode=memory" not in database


def _engine_for(url: URL) -> AsyncEngine:
    backend = url.get_backend_name()
    if backend == "sqlite":
        # In memory: one shared connection, no pool to size. A file is read by SqliteFile, whose
        # statements this engine only compiles.
        return create_async_engine(url)
    options: dict[str, Any] = {"pool_size": 10, "max_overflow": 10}
    if backend == "postgresql":
        # Reads only: autocommit saves the BEGIN and ROLLBACK round trips of every checkout.
        options["isolation_level"] = "AUTOCOMMIT"
    if backend in ("mysql", "mariadb"):
        # The server drops idle connections after wait_timeout (8 h by default); recycle before that.
        options["pool_recycle"] = 3600
    return create_async_engine(url, **options)


def _table_for(entity: EntityBinding) -> TableClause:
    assert entity.table is not None  # the binding loader guarantees a table for kind "sql"
    schema, _, name = entity.table.rpartition(".")
    return table(name, *(column(source) for source in entity.fields.values()), schema=schema or None)


def _chunks(values: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _size_class(count: int) -> int:
    """1, 2, 4 ... up to ``CHUNK``: the statements kept per entity and field stay few."""
    return min(1 << (count - 1).bit_length(), CHUNK)


def _padded(values: list[Any], size: int) -> list[Any]:
    return values + [values[-1]] * (size - len(values))


def _values(value: Any) -> list[Any]:
    # A lone string is one value, not a sequence of characters.
    return [value] if isinstance(value, str | bytes) else list(value)


def _bound(value: Any) -> Any:
    """A condition's value as the engine would bind it on SQLite (dates as its text, decimals as
    floats); the graph's conditions are text and numbers, passed as they are."""
    if isinstance(value, dt.datetime):
        return value.isoformat(" ", "microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat("microseconds")
    if isinstance(value, Decimal):
        return float(value)
    return value


def _parameter(value: Any) -> BindParameter[Any]:
    """A condition's value as a parameter of its own (a file's statement names its parameters)."""
    return value if isinstance(value, BindParameter) else bindparam(None, value)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _records(names: list[str], rows: Sequence[Any]) -> list[Record]:
    """Rows as records; only the columns whose driver values are not JSON-ready get converted.

    A driver returns one Python type per column, so the first non-null value of each column says
    whether the column needs converting: a SQLite answer of strings and numbers costs one dict per
    row and nothing per value.
    """
    # Without strict=: a row has the result's columns, and the keyword costs a third of the loop.
    records = [dict(zip(names, row)) for row in rows]  # noqa: B905
    for index, name in enumerate(names):
        sample = next((row[index] for row in rows if row[index] is not None), None)
        if sample is not None and not isinstance(sample, str | int | float):
            for record in records:
                record[name] = _json_ready(record[name])
    return records


def _json_ready(value: Any) -> Any:
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _reason(exc: BaseException) -> str:
    """A short cause for the client: never the statement, parameters or file paths in the message."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "database host not found"
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return f"database error ({type(exc.orig).__name__})"
    return f"database error ({type(exc).__name__})"
