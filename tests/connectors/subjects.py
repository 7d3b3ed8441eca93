"""What the connector contract suite works with: subjects, their probes, and the reference rows.

A subject bundles a connector, the department's rows read straight from the demo SQLite file (the
reference every kind must agree with), a count of the calls that reached the source, and ways to
build the same connector against a source that is down or slower than its timeout. The fixtures
that make subjects over real servers are in ``conftest.py``.
"""

from __future__ import annotations

import re
import socket
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager, closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from connectors import Connector, SqlConnector
from connectors.base import Record


@dataclass(frozen=True)
class Probe:
    """The entity a subject exercises, where its rows really live, and which fields to filter on."""

    department: str
    entity: str
    table: str
    eq: str
    prefix: str
    range: str
    other: str  # a non-key field several records share: fetch by something other than the key
    unknown_key: Any


PROBES = {
    probe.entity: probe
    for probe in (
        Probe(
            department="market",
            entity="enterprise",
            table="enterprises",
            eq="status",
            prefix="region_code",
            range="registration_date",
            other="region_code",
            unknown_key="91000000000000000X",
        ),
        Probe(
            department="market",
            entity="abnormal_operation",
            table="abnormal_operations",
            eq="listing_authority",
            prefix="uscc",
            range="listed_date",
            other="uscc",
            unknown_key=-1,
        ),
        Probe(
            department="housing",
            entity="construction_permit",
            table="construction_permits",
            eq="status",
            prefix="region_code",
            range="issue_date",
            other="holder_uscc",
            unknown_key="000000000000000000",
        ),
        Probe(
            department="ecology",
            entity="discharge_permit",
            table="discharge_permits",
            eq="status",
            prefix="region_code",
            range="issue_date",
            other="holder_uscc",
            unknown_key="000000000000000000000",
        ),
        Probe(
            department="security",
            entity="identity_record",
            table="population",
            eq="status",
            prefix="address_code",
            range="birth_date",
            other="address_code",
            unknown_key="000000000000000000",
        ),
    )
}
SQL_ENTITIES = ("enterprise", "abnormal_operation", "construction_permit")
CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


class Reference:
    """An entity's rows read straight from the department's SQLite file, under graph field names."""

    def __init__(self, path: Path, table: str, fields: dict[str, str], key: str) -> None:
        # A GraphQL service names its fields in camelCase; the department's columns are snake_case.
        self.fields = {graph: CAMEL_HUMP.sub("_", source).lower() for graph, source in fields.items()}
        self.path, self.table, self.key = path, table, key
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            present = {row[1] for row in db.execute(f'PRAGMA table_info("{table}")')}
        # SQLite reads an unknown "name" as a string literal: a wrong column must fail here instead.
        assert set(self.fields.values()) <= present, f"{table} lacks {set(self.fields.values()) - present}"

    def rows(self, where: str = "", params: Sequence[Any] = ()) -> list[Record]:
        columns = ", ".join(f'"{column}" AS "{graph}"' for graph, column in self.fields.items())
        sql = f'SELECT {columns} FROM "{self.table}"' + (f" WHERE {where}" if where else "")
        sql += f' ORDER BY "{self.fields[self.key]}"'
        with closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)) as db:
            db.row_factory = sqlite3.Row
            return [dict(row) for row in db.execute(sql, list(params))]

    def column(self, field: str) -> str:
        return f'"{self.fields[field]}"'

    def keys(self) -> list[Any]:
        return [row[self.key] for row in self.rows()]


@dataclass
class Subject:
    kind: str
    probe: Probe
    connector: Connector
    reference: Reference
    calls: Callable[[], int]
    batch: int  # keys one source call takes
    down: Callable[[], Connector]
    slow: Callable[[], AbstractAsyncContextManager[tuple[Connector, str, Any]]]
    float_rel: float = 0.0

    @property
    def entity(self) -> str:
        return self.probe.entity

    @property
    def key(self) -> str:
        return self.connector.key_of(self.probe.entity)


def closed_port() -> int:
    """A local port nothing listens on (just released by the OS)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def sqlite_url(data_dir: Path, department: str) -> str:
    return f"sqlite+aiosqlite:///{data_dir / f'{department}.sqlite'}"


def read_rows(path: Path, table: str) -> list[dict[str, Any]]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute(f'SELECT * FROM "{table}"')]


def count_statements(connector: SqlConnector) -> Callable[[], int]:
    seen: list[str] = []
    connector.observe(lambda statement, parameters: seen.append(statement))
    return lambda: len(seen)


class CountingTransport(httpx.AsyncBaseTransport):
    """The real HTTP transport, counting the requests that reach the department's service."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()
