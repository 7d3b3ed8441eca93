"""The grant workflow on a real registry (SQLite and PostgreSQL): departments, one client each,
the real scope catalogue of the policy files, and a clock the tests move."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.client import new_client_key
from hub.grants import Actor, GrantService
from hub.oauth.clock import Clock
from hub.store import Registry, connect, migrate
from tests.conftest import RUN_ID, migrated_sqlite, postgres_database
from tests.oauth.conftest import grant_catalogue

OPERATOR = Actor("olga", "operator")
CENTRE_STEWARD = Actor("chen", "steward", "centre")
MARKET_STEWARD = Actor("ma", "steward", "market")
SECURITY_STEWARD = Actor("song", "steward", "security")
AUDITOR = Actor("ada", "auditor")
DEVELOPER = Actor("dev", "developer", "centre")
DAY = 86_400


@pytest.fixture(params=["sqlite", "postgres"])
def grants_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'grants.sqlite'}"
    return str(request.getfixturevalue("grants_postgres_url"))


@pytest.fixture
async def grants_postgres_url(postgres_url: str) -> AsyncIterator[str]:
    async with postgres_database(postgres_url, f"hub_grants_{RUN_ID}_{uuid.uuid4().hex[:6]}") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def migrated_grants_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A registry of the test's own already at head, made from the run's migrated one (``grants_url``
    is an empty database, for the migration's own test)."""
    if request.param == "sqlite":
        return migrated_sqlite(tmp_path, "grants.sqlite")
    # Asked for by name from a plain fixture: an async fixture cannot set up another on pytest's request.
    return str(request.getfixturevalue("grants_postgres_migrated_url"))


@pytest.fixture
async def grants_postgres_migrated_url(postgres_url: str, postgres_template: str) -> AsyncIterator[str]:
    name = f"hub_grants_{RUN_ID}_{uuid.uuid4().hex[:6]}"
    async with postgres_database(postgres_url, name, template=postgres_template) as url:
        yield url


@pytest.fixture
async def engine(migrated_grants_url: str) -> AsyncIterator[AsyncEngine]:
    engine = connect(migrated_grants_url)
    await migrate(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


@dataclass
class StoppedClock(Clock):
    """The server's clock seam, stopped at a fixed instant: the tests move it by ``offset``."""

    at: int = 1_790_000_000

    def now(self) -> int:
        return int(self.at + self.offset)


@dataclass
class Setting:
    engine: AsyncEngine
    registry: Registry
    service: GrantService
    clock: Clock
    centre_client: str  # the service centre's case system: the usual consumer here
    market_client: str


@pytest.fixture
async def setting(engine: AsyncEngine) -> Setting:
    clock = StoppedClock()
    registry = Registry(engine, clock.now)
    for name in ("centre", "market", "security", "taxation"):
        await registry.add_department(name, name.title())
    clients = []
    for name in ("centre", "market"):
        public = {k: v for k, v in new_client_key().items() if k != "d"}
        clients.append((await registry.register_client(name, f"{name} system", public)).client_id)
    service = GrantService(engine, grant_catalogue(), clock)
    return Setting(engine, registry, service, clock, *clients)
