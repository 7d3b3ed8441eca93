"""Engines and migrations: ``connect`` opens the registry database, ``migrate`` brings it to head.

Migrations are Alembic's, run programmatically on the engine's own connection, so the same code
upgrades SQLite and PostgreSQL (a PostgreSQL ``schema`` keeps the hub's tables, and Alembic's
version table, apart from anything else in the database).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def connect(url: str, *, schema: str | None = None) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {}
    if schema is not None:
        kwargs["connect_args"] = {"server_settings": {"search_path": schema}}
    engine = create_async_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # Every answered request appends a disclosure record: with a write-ahead log a commit costs one
    # sync of the log instead of the rollback journal's several; FULL keeps each commit durable.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")  # replicas on one file wait for each other's writes
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
    with open(f"{database}.lock", "a+b") as handle:
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
