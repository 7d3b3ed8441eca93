"""One subject per (connector kind, entity) for the contract suite, each over real sources.

PostgreSQL and MariaDB get the demo tables and rows copied in once per run; the REST and GraphQL
departments run as real HTTP services; each kind can also be met down or slower than its timeout.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, closing
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connectors import Binding, Connector, SqlConnector, load_bindings
from connectors.registry import connector_of_kind
from connectors.sql import CHUNK
from hub.demo import tables
from hub.demo.services import RunningService, serve_in_thread
from tests.connectors.subjects import (
    PROBES,
    SQL_ENTITIES,
    CountingTransport,
    Probe,
    Reference,
    Subject,
    closed_port,
    count_statements,
    read_rows,
    sqlite_url,
)

DEPARTMENTS = Path(__file__).parents[2] / "connectors" / "departments"
SLOW_SECONDS = 1.0  # how long a slow source takes; far beyond the timeout the tests give it
TIMEOUT = 0.3


@pytest.fixture(scope="session")
def bindings() -> dict[str, Binding]:
    return load_bindings(DEPARTMENTS)


async def copy_department(conn: AsyncConnection, metadata: MetaData, source: Path) -> None:
    """Create a department's tables from ``hub.demo.tables`` and copy its demo rows into them."""
    await conn.run_sync(metadata.create_all)
    for table in metadata.sorted_tables:
        rows = read_rows(source, table.name)
        if rows:
            await conn.execute(table.insert(), rows)


async def load_server(url: str, data_dir: Path, slow_view: str) -> str:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for department in ("market", "housing"):
                await copy_department(
                    conn, tables.DEPARTMENT_METADATA[department], data_dir / f"{department}.sqlite"
                )
            await conn.execute(text(slow_view))
    finally:
        await engine.dispose()
    return url


@pytest.fixture(scope="session")
async def postgres_sources(postgres_url: str, demo_data_dir: Path) -> str:
    # A view that sleeps once per query: a real slow statement the timeout has to cut short.
    view = (
        "CREATE VIEW slow_enterprises AS SELECT e.* FROM enterprises e "
        f"CROSS JOIN (SELECT pg_sleep({SLOW_SECONDS})) AS pause"
    )
    return await load_server(postgres_url, demo_data_dir, view)


@pytest.fixture(scope="session")
async def mariadb_sources(mariadb_url: str, demo_data_dir: Path) -> str:
    view = (
        "CREATE VIEW slow_enterprises AS SELECT e.* FROM enterprises e "
        f"CROSS JOIN (SELECT SLEEP({SLOW_SECONDS}) AS pause) AS pause"
    )
    return await load_server(mariadb_url, demo_data_dir, view)


@pytest.fixture(scope="session")
def sqlite_slow_dir(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the market file with a view whose every read walks a long recursive count."""
    target = tmp_path_factory.mktemp("slow-sqlite")
    with (
        closing(sqlite3.connect(demo_data_dir / "market.sqlite")) as source,
        closing(sqlite3.connect(target / "market.sqlite")) as copy,
    ):
        source.backup(copy)
        copy.execute(
            "CREATE VIEW slow_enterprises AS WITH RECURSIVE n(i) AS "
            "(SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000000) "
            "SELECT e.* FROM enterprises e WHERE (SELECT max(i) FROM n) > 0"
        )
        copy.commit()
    return target


def slow_binding(binding: Binding) -> Binding:
    """The market binding with its enterprises read through the ``slow_enterprises`` view."""
    enterprise = replace(binding.entities["enterprise"], table="slow_enterprises")
    entities = MappingProxyType({**binding.entities, "enterprise": enterprise})
    return replace(binding, entities=entities).with_source(timeout=TIMEOUT)


async def pause(request: Request) -> JSONResponse:
    await asyncio.sleep(SLOW_SECONDS)
    return JSONResponse({"items": [], "data": None})


@asynccontextmanager
async def slow_service(binding: Binding, path: str) -> AsyncIterator[Connector]:
    """The binding's connector against a real server that answers only after ``SLOW_SECONDS``."""
    app = Starlette(routes=[Route(path, pause, methods=["GET", "POST"])])
    service = await asyncio.to_thread(serve_in_thread, app)
    url = service.url + path if binding.source.kind == "graphql" else service.url
    connector = connector_of_kind(binding.with_source(url=url, timeout=TIMEOUT))
    try:
        yield connector
    finally:
        await connector.aclose()
        await asyncio.to_thread(service.stop)


def stopped_service_url(create_app: Callable[[Path], Any], db_path: Path) -> str:
    """The URL of a department service that ran and was stopped: nothing listens there now."""
    service = serve_in_thread(create_app(db_path))
    service.stop()
    return service.url


@pytest.fixture(scope="session")
def ecology_service(demo_data_dir: Path) -> Iterator[RunningService]:
    from hub.demo.ecology_service import create_app

    with serve_in_thread(create_app(demo_data_dir / "ecology.sqlite")) as service:
        yield service


@pytest.fixture(scope="session")
def security_service(demo_data_dir: Path) -> Iterator[RunningService]:
    from hub.demo.security_service import create_app

    with serve_in_thread(create_app(demo_data_dir / "security.sqlite")) as service:
        yield service


SUBJECTS = [
    *(f"{kind}-{entity}" for kind in ("sqlite", "postgres", "mariadb") for entity in SQL_ENTITIES),
    "rest-discharge_permit",
    "graphql-identity_record",
]


@dataclass(frozen=True)
class Source:
    """Where one subject's connector points, and how to reach the same kind of source down or slow."""

    kind: str
    probe: Probe
    binding: Binding
    url: str
    down_url: str
    slow: Callable[[], AbstractAsyncContextManager[tuple[Connector, str, Any]]]


@asynccontextmanager
async def slow_sql(binding: Binding, url: str, uscc: str) -> AsyncIterator[tuple[Connector, str, Any]]:
    connector = SqlConnector(slow_binding(binding), url=url)
    try:
        # A key that exists: with none, a planner may skip the sleeping part of the view altogether.
        yield connector, "enterprise", uscc
    finally:
        await connector.aclose()


@asynccontextmanager
async def slow_http(binding: Binding, entity: str, path: str) -> AsyncIterator[tuple[Connector, str, Any]]:
    async with slow_service(binding, path) as connector:
        yield connector, entity, PROBES[entity].unknown_key


def sql_source(request: pytest.FixtureRequest, kind: str, probe: Probe, binding: Binding) -> Source:
    data_dir: Path = request.getfixturevalue("demo_data_dir")
    if kind == "sqlite":
        url = sqlite_url(data_dir, probe.department)
        down = sqlite_url(data_dir / "no-such-directory", probe.department)
        slow = sqlite_url(request.getfixturevalue("sqlite_slow_dir"), "market")
    elif kind == "postgres":
        url = slow = request.getfixturevalue("postgres_sources")
        down = f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/hub"
    else:
        url = slow = request.getfixturevalue("mariadb_sources")
        down = f"mysql+aiomysql://root@127.0.0.1:{closed_port()}/hub"
    market = request.getfixturevalue("bindings")["market"]
    uscc = read_rows(data_dir / "market.sqlite", "enterprises")[0]["uscc"]
    return Source(kind, probe, binding, url, down, lambda: slow_sql(market, slow, uscc))


def http_source(request: pytest.FixtureRequest, kind: str, probe: Probe, binding: Binding) -> Source:
    data_dir: Path = request.getfixturevalue("demo_data_dir")
    if kind == "rest":
        from hub.demo.ecology_service import create_app

        url = request.getfixturevalue("ecology_service").url
        path = binding.entities[probe.entity].path or ""
    else:
        from hub.demo.security_service import create_app

        url = request.getfixturevalue("security_service").url + "/graphql"
        path = "/graphql"
    down = stopped_service_url(create_app, data_dir / f"{probe.department}.sqlite")
    down += "/graphql" if kind == "graphql" else ""
    return Source(kind, probe, binding, url, down, lambda: slow_http(binding, probe.entity, path))


@pytest.fixture(scope="session", params=SUBJECTS)
def source(request: pytest.FixtureRequest, bindings: dict[str, Binding]) -> Source:
    kind, entity = request.param.split("-", 1)
    probe = PROBES[entity]
    build = sql_source if kind in ("sqlite", "postgres", "mariadb") else http_source
    return build(request, kind, probe, bindings[probe.department])


@pytest.fixture(scope="session")
async def subject(source: Source, demo_data_dir: Path) -> AsyncIterator[Subject]:
    entity = source.binding.entities[source.probe.entity]
    reference = Reference(
        demo_data_dir / f"{source.probe.department}.sqlite",
        source.probe.table,
        dict(entity.fields),
        entity.key,
    )
    transport = None if source.kind not in ("rest", "graphql") else CountingTransport()
    connector = connector_of_kind(source.binding.with_source(url=source.url), transport)
    # One call first: a dialect's first-connect queries are not the contract's business.
    await connector.fetch(entity.name, entity.key, [source.probe.unknown_key])
    if isinstance(connector, SqlConnector):
        calls, batch = count_statements(connector), CHUNK
    else:
        assert transport is not None and entity.max_keys is not None
        calls, batch = (lambda: len(transport.requests)), entity.max_keys
    yield Subject(
        kind=source.kind,
        probe=source.probe,
        connector=connector,
        reference=reference,
        calls=calls,
        batch=batch,
        down=lambda: connector_of_kind(source.binding.with_source(url=source.down_url)),
        slow=source.slow,
        # MariaDB's FLOAT (what tables.py's Float becomes there) keeps about 6 significant digits.
        float_rel=1e-5 if source.kind == "mariadb" else 0.0,
    )
    await connector.aclose()
