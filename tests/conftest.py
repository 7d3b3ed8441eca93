"""Shared fixtures: small demo data, its two HTTP departments served once for the whole run, and real
PostgreSQL / MariaDB / Redis per test run.

Every database and key prefix is unique to the run and dropped at the end: the services on the
machine outlive every run. A test's own registry database usually starts as a copy of one migrated
once per run (``migrated_sqlite``, ``postgres_template``): still its own, still opened and checked by
the hub, without every migration run again; the tests about migrating use empty ones. Without a
service, its tests skip naming what is missing; under CI (``CI=true``) a missing service is a
failure, never a skip.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import datetime as dt
import functools
import os
import shutil
import socket
import sqlite3
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from graphql import GraphQLSchema

    from hub.demo.services import RunningService
    from hub.policy import Policies

RUN_ID = uuid.uuid4().hex[:10]
DEMO_SEED = 4242
DEMO_AS_OF = dt.date(2026, 11, 1)
DEMO_ENTERPRISES = 300

PG_ADMIN_URL = os.environ.get("HUB_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
MARIADB_ADMIN_URL = os.environ.get("HUB_TEST_MARIADB", "mysql+aiomysql://root@127.0.0.1:3306/test")
REDIS_URL = os.environ.get("HUB_TEST_REDIS", "redis://127.0.0.1:6379/0")
POLICIES_DIR = Path(__file__).resolve().parents[1] / "policies"


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip (or fail under CI) when a service the test needs is not listening."""
    if _port_open(host, port):
        return
    message = f"{name} is not running on {host}:{port}"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI must provide it")
    pytest.skip(message)


@pytest.fixture(scope="session", autouse=True)
def applicant_pseudonym_key() -> Iterator[str]:
    """The pseudonym key a deployment sets in the environment: production hubs in tests start with it
    (policies/centre.toml; production refuses the development key written there). Set in os.environ,
    so hubs a test runs as subprocesses have it too."""
    with pytest.MonkeyPatch.context() as patch:
        key = f"test-run-{RUN_ID}-applicant-pseudonym-key"
        patch.setenv("HUB_APPLICANT_PSEUDONYM_KEY", key)
        yield key


@pytest.fixture(scope="session", autouse=True)
def migrate_at_start() -> Iterator[None]:
    """Tests' hubs open fresh registries, so they migrate them at start-up as development does
    (``HUB_MIGRATE_AT_START``, subprocess hubs included); production's default, refusing a registry
    behind the code and naming ``hub migrate``, is tested with the setting off (tests/deploy/)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HUB_MIGRATE_AT_START", "true")
        yield


BROWSER_TESTS = Path(__file__).resolve().parent / "browser"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Slow tests (real processes, containers: marked ``slow``) after the fast ones, and browser tests
    last, marked ``browser``: once sync Playwright has run, the main thread keeps a running asyncio
    loop and every later asyncio test would fail."""
    fast: list[pytest.Item] = []
    slow: list[pytest.Item] = []
    browser: list[pytest.Item] = []
    for item in items:
        if BROWSER_TESTS in item.path.resolve().parents:
            browser.append(item)
        else:
            (slow if item.get_closest_marker("slow") else fast).append(item)
    for item in browser:
        item.add_marker(pytest.mark.browser)
    # Container tests (building and starting the image) last among the slow ones.
    slow.sort(key=lambda item: item.get_closest_marker("container") is not None)
    items[:] = fast + slow + browser


@pytest.fixture(scope="session")
def demo_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small, deterministic copy of the demo departments' databases (SQLite files)."""
    from hub.demo.generate import generate

    data_dir = tmp_path_factory.mktemp("demo-data")
    generate(data_dir, seed=DEMO_SEED, enterprises=DEMO_ENTERPRISES, as_of=DEMO_AS_OF)
    return data_dir


@pytest.fixture(scope="session")
def demo_db(demo_data_dir: Path) -> Iterator[Any]:
    """Read the demo departments' files directly, to compare the graph with its sources (one reader for
    the whole run: used by name, never imported)."""
    connections: dict[str, sqlite3.Connection] = {}

    def rows(department: str, sql: str, *params: Any) -> list[dict[str, Any]]:
        conn = connections.get(department)
        if conn is None:
            conn = connections[department] = sqlite3.connect(demo_data_dir / f"{department}.sqlite")
            conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, params)]

    yield rows
    for conn in connections.values():
        conn.close()


@dataclass
class DepartmentServices:
    ecology: RunningService
    security: RunningService


@pytest.fixture(scope="session")
def services(demo_data_dir: Path) -> Iterator[DepartmentServices]:
    """The two departments that answer over HTTP (Ecology's REST API, Public Security's GraphQL API),
    served for real on the demo files: one pair for the whole run, shared by every folder's hubs.
    Defined here and used by name, never imported into a test module or a folder's conftest (pytest
    would start a pair for each module that imports it). A test that stops a department starts its
    own instead (``serve_in_thread``)."""
    from hub.demo import ecology_service, security_service
    from hub.demo.services import serve_in_thread

    ecology = serve_in_thread(ecology_service.create_app(demo_data_dir / "ecology.sqlite"))
    try:
        security = serve_in_thread(security_service.create_app(demo_data_dir / "security.sqlite"))
    except BaseException:
        ecology.stop()
        raise
    try:
        yield DepartmentServices(ecology, security)
    finally:
        ecology.stop()
        security.stop()


@pytest.fixture(scope="session")
def graph() -> GraphQLSchema:
    """The real graph, without any caller's view."""
    import schema

    return schema.build_schema()._schema


@pytest.fixture(scope="session")
def policies(graph: GraphQLSchema) -> Policies:
    """The demo policies (``policies/``) as the hub loads them over the real graph."""
    from hub.policy import load_policies

    return load_policies(POLICIES_DIR, graph)


@functools.cache
def _migrated_sqlite_template() -> Path:
    """An SQLite registry database brought to head once per run, as the hub migrates one (the
    migrations make no keys and nothing random: every copy is a database no test has used yet).
    Migrated on a thread with a loop of its own, whatever loop the calling test runs on."""
    from hub.store.database import connect, migrate

    directory = Path(tempfile.mkdtemp(prefix="hub-test-migrated-"))
    atexit.register(shutil.rmtree, directory, True)
    path = directory / "hub.sqlite"

    async def build() -> None:
        engine = connect(f"sqlite+aiosqlite:///{path}")
        try:
            await migrate(engine)
        finally:
            await engine.dispose()

    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, build()).result()
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode=DELETE")  # the write-ahead log folded in: one file to copy
    return path


def migrated_sqlite(directory: Path, name: str = "hub.sqlite") -> str:
    """The URL of a new SQLite registry database ``directory / name`` of the test's own, already at
    the migrations' head: a copy of one migrated once per run, so a test about something else does
    not run every migration again. A hub opening it still checks its revision and makes its own
    keys; migrating from empty is tested where it is the subject (tests/deploy, the migration tests)."""
    target = directory / name
    shutil.copyfile(_migrated_sqlite_template(), target)
    return f"sqlite+aiosqlite:///{target}"


@asynccontextmanager
async def postgres_database(server_url: str, name: str, *, template: str | None = None) -> AsyncIterator[str]:
    """A PostgreSQL database of the caller's own on the server of ``server_url``, dropped after;
    with ``template``, made as a copy of that database (``postgres_template``: already migrated)."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    copied = f' TEMPLATE "{template}"' if template is not None else ""
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"{copied}'))
    try:
        yield server_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture(scope="session")
async def postgres_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for this run, dropped afterwards."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    async with postgres_database(PG_ADMIN_URL, f"hub_test_{RUN_ID}") as url:
        yield url


@pytest.fixture(scope="session")
async def postgres_template(postgres_url: str) -> AsyncIterator[str]:
    """The name of a PostgreSQL database of this run brought to head once, for tests' own databases
    made from it (``postgres_database(..., template=...)``) instead of migrating each; nobody
    connects to it after, as a template requires. Dropped at the end of the run."""
    from hub.store.database import connect, migrate

    name = f"hub_template_{RUN_ID}"
    async with postgres_database(postgres_url, name) as url:
        engine = connect(url)
        try:
            await migrate(engine)
        finally:
            await engine.dispose()
        yield name


@pytest.fixture(scope="session")
async def mariadb_url() -> AsyncIterator[str]:
    """A fresh MariaDB database for this run, dropped afterwards."""
    require_service("MariaDB", "127.0.0.1", 3306)
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    name = f"hub_test_{RUN_ID}"
    admin = create_async_engine(MARIADB_ADMIN_URL)
    async with admin.connect() as conn:
        await conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    try:
        yield MARIADB_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}?charset=utf8mb4"
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        await admin.dispose()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    require_service("Redis", "127.0.0.1", 6379)
    yield REDIS_URL


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix unique to one test; its keys are deleted afterwards."""
    prefix = f"hubtest:{RUN_ID}:{uuid.uuid4().hex[:8]}:"
    yield prefix
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
