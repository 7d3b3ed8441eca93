"""The same graph with the SQL departments on PostgreSQL and on MariaDB instead of SQLite.

Each run creates its own database on each server, copies the demo departments' rows into it and
drops it afterwards; the answers must be identical to the SQLite ones, call for call.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from hub.demo import tables
from tests.conftest import MARIADB_ADMIN_URL, PG_ADMIN_URL, RUN_ID, require_service
from tests.graph.conftest import DepartmentServices, hub_settings, open_hub

SQL_DEPARTMENTS = ("market", "housing", "taxation", "centre")
QUERIES = [
    "{ licences(first: 40, region: \"130203\") { edges { cursor node { __typename number status validTo holder { name status taxRegistration { creditGrade arrears } } } } pageInfo { hasNextPage endCursor } } }",
    "{ enterprises(first: 25, status: IN_OPERATION) { edges { node { uscc registeredCapital termTo legalRepresentative { name idValidTo } abnormalOperations { listedDate } } } } }",
    "{ cases(first: 15) { edges { node { number status matter { name online visits materials { name required hubSupplied } } stages { seq startedAt endedAt } licence { number } } } } }",
    "{ licences(first: 50, expiringWithinDays: 90, status: VALID) { edges { node { number validTo } } } }",
]


async def _create_database(admin_url: str, name: str, create: str) -> str:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(create))
    await engine.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


async def _drop_database(admin_url: str, drop: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(drop))
    await engine.dispose()


async def _copy_departments(url: str, data_dir: Path) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        for department in SQL_DEPARTMENTS:
            metadata = tables.DEPARTMENT_METADATA[department]
            await conn.run_sync(metadata.create_all)
            with sqlite3.connect(data_dir / f"{department}.sqlite") as source:
                source.row_factory = sqlite3.Row
                for table in metadata.sorted_tables:
                    rows = [dict(r) for r in source.execute(f'SELECT * FROM "{table.name}"')]
                    if rows:
                        await conn.execute(table.insert(), rows)
    await engine.dispose()


@pytest.fixture(scope="module", params=["postgres", "mariadb"])
async def server_url(request: pytest.FixtureRequest, demo_data_dir: Path) -> AsyncIterator[str]:
    name = f"hub_e2e_{RUN_ID}"
    if request.param == "postgres":
        require_service("PostgreSQL", "127.0.0.1", 5432)
        url = await _create_database(PG_ADMIN_URL, name, f'CREATE DATABASE "{name}"')
        drop, admin = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', PG_ADMIN_URL
    else:
        require_service("MariaDB", "127.0.0.1", 3306)
        url = await _create_database(MARIADB_ADMIN_URL, name, f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        url += "?charset=utf8mb4"
        drop, admin = f"DROP DATABASE IF EXISTS `{name}`", MARIADB_ADMIN_URL
    try:
        await _copy_departments(url, demo_data_dir)
        yield url
    finally:
        await _drop_database(admin, drop)


async def _answers(settings: Any) -> tuple[list[Any], dict[tuple[str, str], float]]:
    async with open_hub(settings) as hub:
        answers = [await hub.query(q) for q in QUERIES]
        return answers, hub.all_source_calls()


async def test_graph_answers_the_same_from_a_server_database_as_from_sqlite(
    server_url: str, demo_data_dir: Path, services: DepartmentServices
) -> None:
    on_sqlite = hub_settings(demo_data_dir, services.ecology.url, services.security.url)
    on_server = hub_settings(
        demo_data_dir, services.ecology.url, services.security.url,
        sources={d: {"url": server_url} for d in SQL_DEPARTMENTS},
    )
    expected, expected_calls = await _answers(on_sqlite)
    answers, calls = await _answers(on_server)
    for query, want, got in zip(QUERIES, expected, answers, strict=True):
        assert "errors" not in got, (query, got.get("errors"))
        assert got == want, query
    assert calls == expected_calls
