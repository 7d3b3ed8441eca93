"""Two hub replicas, each its own OS process on its own port, answering at once over one database.

Both serve the demo departments to anonymous development callers, share the key-encryption key
(so each can check the other's MACs and seals) and seal every 7 records. Every answer must be on
the disclosure record exactly once, the chain must verify with ``hub audit verify`` as an auditor
runs it, seals made by either replica must hold, and ``hub audit who`` must name each request that
disclosed an enterprise. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from hub.store import connect
from hub.store.sealing import new_key_encryption_key
from tests.audit.hub_process import HubProcess, hub_cli, port_is_free, start_hub, write_settings
from tests.conftest import DEMO_AS_OF
from tests.graph.conftest import DepartmentServices, services  # noqa: F401

PER_HUB = 60
SEAL_EVERY = 7
SOURCE_TIMEOUT = 30.0
HUBS = ("east", "west")


@dataclass(frozen=True)
class Ask:
    """One request: the replica it goes to, its request id, and the enterprise it asks about."""

    hub: HubProcess
    request_id: str
    uscc: str

    @property
    def operation(self) -> str:  # a name of its own, so ``hub audit who`` shows which request it was
        return "Ask_" + self.request_id.replace("-", "_")

    @property
    def document(self) -> str:
        return (
            f"query {self.operation}($u: String!) {{ enterprise(uscc: $u) {{ uscc name "
            "legalRepresentative { name identityVerification { found } } licences { number } } }"
        )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """One database both replicas use: an SQLite file, or a PostgreSQL database of this test's own."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}"
    return str(request.getfixturevalue("audit_postgres_url"))


@pytest.fixture
def settings_file(
    tmp_path: Path, database_url: str, demo_data_dir: Path, services: DepartmentServices  # noqa: F811
) -> Path:
    return write_settings(tmp_path / "hub.toml", {
        "environment": "development",
        "anonymous_access": True,
        "database_url": database_url,
        "state_dir": tmp_path / "state",
        "key_encryption_key": new_key_encryption_key(),
        "audit_seal_every": SEAL_EVERY,
        "demo_data_dir": demo_data_dir,
        "today": DEMO_AS_OF.isoformat(),
        "log_level": "WARNING",
        # The demo services share this test's interpreter: under 120 requests at once they answer slowly.
        "sources": {
            "ecology": {"url": services.ecology.url, "timeout": SOURCE_TIMEOUT},
            "security": {"url": services.security.url + "/graphql", "timeout": SOURCE_TIMEOUT},
        },
    })


@pytest.fixture
def migrated(settings_file: Path) -> Path:
    """The database brought to head and given its keys by the operator, before any replica starts."""
    done = hub_cli(settings_file, "registry", "migrate")
    assert done.returncode == 0, done.stdout + done.stderr
    return settings_file


@pytest.fixture
def two_hubs(migrated: Path, tmp_path: Path) -> Iterator[list[HubProcess]]:
    """Both replicas up and answering; stopped (and their ports free) whatever the test's outcome."""
    hubs: list[HubProcess] = []
    try:
        for name in HUBS:
            hubs.append(start_hub(name, migrated, tmp_path))
        for hub in hubs:
            hub.wait_ready()
        yield hubs
    finally:
        for hub in hubs:
            hub.stop()
    assert all(port_is_free(hub.port) for hub in hubs), "a stopped replica still holds its port"


@pytest.fixture(scope="module")
def enterprises(demo_data_dir: Path) -> list[str]:
    with sqlite3.connect(demo_data_dir / "market.sqlite") as db:
        rows = db.execute("SELECT uscc FROM enterprises WHERE legal_rep_id IS NOT NULL ORDER BY uscc LIMIT 9")
        return [uscc for (uscc,) in rows]


async def fire(asks: list[Ask]) -> list[httpx.Response]:
    """Every request at once, each replica over its own connections."""
    limits = httpx.Limits(max_connections=PER_HUB)
    urls = {ask.hub.name: ask.hub.url for ask in asks}
    clients = {
        name: httpx.AsyncClient(base_url=url, timeout=120, limits=limits) for name, url in urls.items()
    }
    try:
        return list(await asyncio.gather(*(
            clients[ask.hub.name].post(
                "/graphql", json={"query": ask.document, "variables": {"u": ask.uscc}},
                headers={"X-Request-Id": ask.request_id},
            )
            for ask in asks
        )))
    finally:
        for client in clients.values():
            await client.aclose()


async def audit_rows(database_url: str, sql: str) -> list[Any]:
    engine = connect(database_url)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text(sql))).all())
    finally:
        await engine.dispose()


def hub_of(request_id: str) -> str:
    return request_id.split("-")[1]


def interleaved(writers: list[str]) -> bool:
    """Each replica wrote records both before and after some of the other's."""
    first = {name: writers.index(name) for name in HUBS}
    last = {name: len(writers) - 1 - writers[::-1].index(name) for name in HUBS}
    return first["east"] < last["west"] and first["west"] < last["east"]


async def test_two_replicas_answering_at_once_record_every_request_once_in_one_intact_sealed_chain(
    two_hubs: list[HubProcess], settings_file: Path, database_url: str, enterprises: list[str]
) -> None:
    run = uuid.uuid4().hex[:6]
    asks = [
        Ask(hub, f"{run}-{hub.name}-{n:03d}", enterprises[n % len(enterprises)])
        for n in range(PER_HUB) for hub in two_hubs
    ]
    answers = await fire(asks)

    for ask, answer in zip(asks, answers, strict=True):
        assert answer.status_code == 200, (ask.request_id, answer.text)
        assert answer.headers["x-request-id"] == ask.request_id
        body = answer.json()
        assert "errors" not in body, (ask.request_id, body)
        assert body["data"]["enterprise"]["uscc"] == ask.uscc

    records = await audit_rows(database_url, "SELECT seq, request_id FROM audit_records ORDER BY seq")
    assert Counter(r.request_id for r in records) == Counter(a.request_id for a in asks)
    assert [r.seq for r in records] == list(range(1, len(asks) + 1))
    assert interleaved([hub_of(r.request_id) for r in records]), "the replicas did not write at once"

    verified = hub_cli(settings_file, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    total = len(asks)
    seals = total // SEAL_EVERY
    assert verified.stdout.splitlines() == [f"{total} records (last seq {total}), {seals} seals", "intact"]

    sealed_by = await audit_rows(
        database_url,
        "SELECT s.seq, r.request_id FROM audit_seals s JOIN audit_records r ON r.seq = s.seq ORDER BY s.seq",
    )
    assert [s.seq for s in sealed_by] == list(range(SEAL_EVERY, total + 1, SEAL_EVERY))
    assert {hub_of(s.request_id) for s in sealed_by} == set(HUBS), "each replica sealed while appending"

    uscc = enterprises[0]
    who = hub_cli(settings_file, "audit", "who", uscc)
    assert who.returncode == 0, who.stdout + who.stderr
    lines = who.stdout.splitlines()
    expected = sorted(a.operation for a in asks if a.uscc == uscc)
    assert lines[-1] == f"{len(expected)} disclosures"
    assert sorted(_operation(line) for line in lines[:-1]) == expected
    assert all("development/anonymous" in line and "Enterprise.name=allow" in line for line in lines[:-1])


def _operation(line: str) -> str:
    return next(word for word in line.split() if word.startswith("Ask_"))
