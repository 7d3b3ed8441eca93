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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from hub.store import connect
from hub.store.sealing import new_key_encryption_key
from tests.audit.hub_process import HubProcess, hub_cli, running, write_settings
from tests.conftest import DEMO_AS_OF
from tests.graph.conftest import DepartmentServices

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
    tmp_path: Path, database_url: str, demo_data_dir: Path, services: DepartmentServices
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
        # 120 requests at once on a shared machine answer slower than a department's usual limit.
        "sources": {
            **{name: {"timeout": SOURCE_TIMEOUT} for name in ("centre", "housing", "market", "taxation")},
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
    """Both replicas up and answering over the migrated database."""
    with running(HUBS, migrated, tmp_path) as hubs:
        yield hubs


@pytest.fixture
def two_hubs_on_a_fresh_database(settings_file: Path, tmp_path: Path) -> Iterator[list[HubProcess]]:
    """Both replicas up over an empty database: each brings it to head on its first request."""
    with running(HUBS, settings_file, tmp_path) as hubs:
        yield hubs


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


def asks_at(hubs: list[HubProcess], per_hub: int, enterprises: list[str]) -> list[Ask]:
    run = uuid.uuid4().hex[:6]
    return [
        Ask(hub, f"{run}-{hub.name}-{n:03d}", enterprises[n % len(enterprises)])
        for n in range(per_hub) for hub in hubs
    ]


def assert_answered(asks: list[Ask], answers: list[httpx.Response]) -> None:
    for ask, answer in zip(asks, answers, strict=True):
        assert answer.status_code == 200, (ask.request_id, answer.text)
        assert answer.headers["x-request-id"] == ask.request_id
        body = answer.json()
        assert "errors" not in body, (ask.request_id, body)
        assert body["data"]["enterprise"]["uscc"] == ask.uscc


async def assert_recorded_once_each(
    database_url: str, asks: list[Ask], *, at_once: bool = True, warm_ups: list[Ask] | None = None
) -> None:
    """Every request on record exactly once, seq without gaps; with ``at_once``, the two replicas'
    records of ``asks`` interleave in time (they answered at the same time, not one after the other; in
    seq order each replica's records come in groups, one group per transaction). ``warm_ups`` were
    answered one at a time before the others and are on record too."""
    warm_ups = warm_ups or []
    records = await audit_rows(database_url, "SELECT seq, time, request_id FROM audit_records ORDER BY seq")
    everything = warm_ups + asks
    assert Counter(r.request_id for r in records) == Counter(a.request_id for a in everything)
    assert [r.seq for r in records] == list(range(1, len(everything) + 1))
    if at_once:
        warm = {a.request_id for a in warm_ups}
        by_time = sorted((r for r in records if r.request_id not in warm), key=lambda r: r.time)
        assert interleaved([hub_of(r.request_id) for r in by_time]), "the replicas did not answer at once"


def assert_verified_intact(settings_file: Path, records: int) -> None:
    """``hub audit verify`` as an auditor runs it: every record, every seal, exit status 0."""
    verified = hub_cli(settings_file, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    summary = f"{records} records (last seq {records}), {records // SEAL_EVERY} seals"
    assert verified.stdout.splitlines() == [summary, "intact"]


async def test_two_replicas_answering_at_once_keep_one_intact_chain_sealed_by_both_naming_each_request(
    two_hubs: list[HubProcess], settings_file: Path, database_url: str, enterprises: list[str]
) -> None:
    # One request to each replica first, one at a time: a replica's first answer (its first view,
    # document and connections) can take longer on a busy machine than the other's whole share, and
    # then the two would not be answering at once.
    warm_ups, asks = warmed_up(asks_at(two_hubs, PER_HUB, enterprises), two_hubs)
    for ask in warm_ups:
        assert_answered([ask], await fire([ask]))
    assert_answered(asks, await fire(asks))
    await assert_recorded_once_each(database_url, asks, warm_ups=warm_ups)
    everything = warm_ups + asks
    assert_verified_intact(settings_file, len(everything))  # verify checks each seal's signature, key and claims
    await assert_sealed_by_both(database_url, len(everything))
    assert_who_names_each_request(settings_file, everything, enterprises[0])


def warmed_up(asks: list[Ask], hubs: list[HubProcess]) -> tuple[list[Ask], list[Ask]]:
    """The first ask of each replica apart (to answer alone, first), and the rest."""
    firsts = [next(a for a in asks if a.hub is hub) for hub in hubs]
    return firsts, [a for a in asks if a not in firsts]


async def assert_sealed_by_both(database_url: str, records: int) -> None:
    sealed_by = await audit_rows(
        database_url,
        "SELECT s.seq, r.request_id FROM audit_seals s JOIN audit_records r ON r.seq = s.seq ORDER BY s.seq",
    )
    # Whoever appends a multiple of 7 seals it in the same transaction, so the record names the sealer.
    assert [s.seq for s in sealed_by] == list(range(SEAL_EVERY, records + 1, SEAL_EVERY))
    assert {hub_of(s.request_id) for s in sealed_by} == set(HUBS), "not both replicas sealed"


def assert_who_names_each_request(settings_file: Path, asks: list[Ask], uscc: str) -> None:
    who = hub_cli(settings_file, "audit", "who", uscc)
    assert who.returncode == 0, who.stdout + who.stderr
    *lines, total = who.stdout.splitlines()
    expected = sorted(a.operation for a in asks if a.uscc == uscc)
    assert {hub_of(a.request_id) for a in asks if a.uscc == uscc} == set(HUBS)
    assert total == f"{len(expected)} disclosures"
    assert sorted(_operation(line) for line in lines) == expected
    assert all("development/anonymous" in line and "Enterprise.name=allow" in line for line in lines)


def _operation(line: str) -> str:
    return next(word for word in line.split() if word.startswith("Ask_"))


async def test_two_replicas_started_together_on_a_fresh_database_answer_and_record_their_first_requests(
    two_hubs_on_a_fresh_database: list[HubProcess], settings_file: Path, database_url: str,
    enterprises: list[str],
) -> None:
    asks = asks_at(two_hubs_on_a_fresh_database, 10, enterprises)
    assert_answered(asks, await fire(asks))
    # Ten first requests each: a replica still warming up (its first view, its first connection)
    # may answer all of its own after the other's, so interleaving is the next test's to show.
    await assert_recorded_once_each(database_url, asks, at_once=False)
    assert_verified_intact(settings_file, len(asks))
