"""Engines and migrations: ``connect`` opens the registry database, ``migrate`` brings it to head.

Migrations are Alembic's, run programmatically on the engine's own connection, so the same code
upgrades SQLite and PostgreSQL (a PostgreSQL ``schema`` keeps the hub's tables, and Alembic's
version table, apart from anything else in the database).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def connect(url: str, *, schema: str | None = None, timeout: float | None = None) -> AsyncEngine:
    """An engine on ``url``; with ``timeout`` (seconds), no call on it waits longer than that for a
    connection, a statement or a lock, so a database that hangs costs a request a bounded time
    (``hub.faults`` answers the timeout with 503). The command line tools pass none: an operator's
    long query may take what it takes."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {"connect_args": _bounded(backend, timeout)} if timeout is not None else {}
    if timeout is not None:
        kwargs["pool_timeout"] = timeout
    if schema is not None:
        connect_args = kwargs.setdefault("connect_args", {})
        connect_args.setdefault("server_settings", {})["search_path"] = schema
    # JSON columns (the audit's records above all) read with orjson: a full verification reads them all.
    engine = create_async_engine(url, json_deserializer=orjson.loads, **kwargs)
    if backend == "sqlite":
        busy = int((timeout if timeout is not None else 10.0) * 1000)
        event.listen(engine.sync_engine, "connect", functools.partial(_sqlite_pragmas, busy=busy))
    return engine


def _bounded(backend: str, timeout: float) -> dict[str, Any]:
    """Driver arguments bounding every call: asyncpg's connect and command timeouts are client side
    (they hold when the server or the network hangs); statement and lock timeouts let PostgreSQL
    itself give up on work nobody waits for any more."""
    if backend == "postgresql":
        millis = str(int(timeout * 1000))
        return {
            "timeout": timeout,
            "command_timeout": timeout,
            "server_settings": {"statement_timeout": millis, "lock_timeout": millis},
        }
    if backend == "sqlite":
        return {"timeout": timeout}
    return {}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, busy: int) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # Every answered request appends a disclosure record: with a write-ahead log a commit costs one
    # sync of the log instead of the rollback journal's several; FULL keeps each commit durable.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={busy}")  # replicas on one file wait for each other's writes
    cursor.close()


# Any constant shared by every hub process: the advisory lock's key on PostgreSQL.
PREPARE_LOCK = 0x6875625F70726570  # "hub_prep"


@contextlib.asynccontextmanager
async def exclusive(engine: AsyncEngine) -> AsyncIterator[None]:
    """One hub process at a time, across processes: replicas starting together on a fresh database
    must not both create its tables (or both make a first signing key).

    PostgreSQL: a session advisory lock on a connection held for the duration. SQLite: an exclusive
    ``flock`` on a file beside the database (SQLite's own locks do not cover DDL races between
    Alembic's separate statements).
    """
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            await conn.exec_driver_sql(f"SELECT pg_advisory_lock({PREPARE_LOCK})")
            try:
                yield
            finally:
                await conn.exec_driver_sql(f"SELECT pg_advisory_unlock({PREPARE_LOCK})")
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.lock", "a+b") as handle:  # noqa: ASYNC230  a local file; the wait is in a thread
        await asyncio.to_thread(fcntl.flock, handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, revision)


def _upgrade(connection: Connection, revision: str) -> None:
    logging.getLogger("alembic").setLevel(logging.WARNING)  # a line per step is noise in the CLI and tests
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)

