"""The SQL connector: a department database read through SQLAlchemy 2 async Core.

Tables are described from the binding alone (lightweight ``table()``/``column()`` constructs with
the department's column names), so start-up needs no reflection round trip and a column the binding
does not name is never read; a page that names its ``fields`` reads only their columns. Every
statement uses bound parameters.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, TableClause, bindparam, column, select, table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from connectors.base import Condition, Op, Page, Record, SourceError, UnsupportedQuery
from connectors.binding import Binding, EntityBinding
from connectors.bound import BoundConnector

_OPERATORS: dict[Op, Callable[[ColumnElement[Any], Any], ColumnElement[bool]]] = {
    "eq": lambda col, value: col == value,
    "in": lambda col, values: col.in_(_values(values)),
    # % and _ in the prefix are the caller's text, not wildcards.
    "prefix": lambda col, prefix: col.like(_escape_like(str(prefix)) + "%", escape="\\"),
    "gte": lambda col, value: col >= value,
    "lte": lambda col, value: col <= value,
}
OPS: frozenset[Op] = frozenset(_OPERATORS)
# Databases cap bound parameters per statement (SQLite 32766, PostgreSQL 32767 in total); 1000 keys
# per IN list stays far below every cap while keeping one statement for every realistic batch.
CHUNK = 1000
# Page statements kept, one per entity and set of columns asked (documents choose the columns).
MAX_STATEMENTS = 256
_KEY_NAMES = tuple(f"k{i}" for i in range(CHUNK))  # a look-up statement's parameters


class SqlConnector(BoundConnector):
    """A department's relational database (SQLite, PostgreSQL, MariaDB/MySQL)."""

    kind = "sql"

    def __init__(self, binding: Binding, url: str | None = None) -> None:
        super().__init__(binding)
        self._engine = _engine_for(url or binding.resolved_url())
        self._sqlite = self._engine.dialect.name == "sqlite"
        self._interrupts: set[asyncio.Task[None]] = set()
        self._tables = {name: _table_for(entity) for name, entity in binding.entities.items()}
        # Statements built once per entity (and key field): SQLAlchemy then finds each one's compiled
        # form in its cache by identity instead of building and hashing a new statement per call.
        self._selects: dict[tuple[str, frozenset[str] | None], Select[Any]] = {}
        self._by_keys: dict[tuple[str, str, int], Select[Any]] = {}

    @property
    def engine(self) -> AsyncEngine:
        """The engine, for metrics and tests that count statements; callers never query it directly."""
        return self._engine

    def supports(self, entity: str, field: str, op: Op) -> bool:
        bound = self.binding.entities.get(entity)
        return bound is not None and field in bound.fields and op in OPS

    async def fetch(self, entity: str, field: str, keys: Sequence[Any]) -> list[Record]:
        unique = list(dict.fromkeys(keys))
        self._column(entity, field)  # a field the binding lacks fails before any call
        if not unique:
            return []
        return await self._run([self._by_keys_of(entity, field, chunk) for chunk in _chunks(unique, CHUNK)])

    def _by_keys_of(self, entity: str, field: str, keys: list[Any]) -> tuple[Select[Any], dict[str, Any]]:
        """The statement for ``keys`` (at most ``CHUNK``) and its parameters.

        One statement per size class (1, 2, 4 ... keys, then ``CHUNK``), built and compiled once,
        the last key repeated up to its size: ``IN`` answers a repeated value once. An expanding
        parameter would render the list into the SQL on every call (about 70 us a statement).
        """
        size = min(1 << (len(keys) - 1).bit_length(), CHUNK)
        statement = self._by_keys.get((entity, field, size))
        if statement is None:
            match = self._column(entity, field)
            statement = self._by_keys[(entity, field, size)] = self._select(entity).where(
                match.in_([bindparam(name) for name in _KEY_NAMES[:size]]))
        return statement, dict(zip(_KEY_NAMES[:size], keys + [keys[-1]] * (size - len(keys)), strict=True))

    async def select(self, entity: str, where: Sequence[Condition], page: Page) -> list[Record]:
        if page.limit < 1:
            raise UnsupportedQuery(self.department, "page limit must be at least 1")
        order = self._column(entity, page.order_by)
        clauses = [self._clause(entity, condition) for condition in where]
        if any(condition.op == "in" and not _values(condition.value) for condition in where):
            return []  # "one of no values" holds for no record: no statement needed
        if page.after is not None:
            clauses.append(order > page.after)
        statement = self._select(entity, page.fields).where(*clauses).order_by(order).limit(page.limit)
        return await self._run([(statement, None)])

    async def aclose(self) -> None:
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
        """A SQLite connection's statement stopped at the deadline, not only awaited (cancel the handle
        before the connection goes back to the pool).

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


def _engine_for(url: str) -> AsyncEngine:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.database in (None, "", ":memory:"):
        return create_async_engine(url)  # one shared in-memory connection: no pool to size
    options: dict[str, Any] = {"pool_size": 10, "max_overflow": 10}
    if backend == "sqlite":
        # Reads only, and sqlite3 opens no transaction for a SELECT anyway: in autocommit, with no
        # ROLLBACK when a connection goes back to the pool, a statement hands aiosqlite's thread
        # four calls instead of five (cursor, execute, fetch, close), each a wake-up and a turn of
        # the interpreter's lock (bench/README.md, "B in one source round").
        options["isolation_level"] = "AUTOCOMMIT"
        options["skip_autocommit_rollback"] = True
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


def _values(value: Any) -> list[Any]:
    # A lone string is one value, not a sequence of characters.
    return [value] if isinstance(value, str | bytes) else list(value)


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
