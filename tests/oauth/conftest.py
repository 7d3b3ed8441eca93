"""``registry_url``: the registry on SQLite and on PostgreSQL (a database of this suite's own)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from tests.conftest import PG_ADMIN_URL, RUN_ID, require_service



@pytest.fixture(params=["sqlite", "postgres"])
async def registry_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}"
        return
    # A database of this suite's own beside the run's (``postgres_url``), on the same server.
    require_service("PostgreSQL", "127.0.0.1", 5432)
    async with own_postgres_database() as url:
        yield url


@asynccontextmanager
async def own_postgres_database() -> AsyncIterator[str]:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    name = f"hub_oauth_{RUN_ID}_{uuid.uuid4().hex[:6]}"
    admin = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
