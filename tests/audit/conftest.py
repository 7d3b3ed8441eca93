"""An audit store of the test's own, on SQLite and on PostgreSQL (a database per test on the run's
server), and disclosures about real-looking subjects (valid USCCs and ID numbers).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from hub.audit import AuditKeys, AuditStore, Disclosure, SubjectDisclosure, operation_hash
from hub.demo.ids import organisation_check, uscc
from hub.identifiers.id_number import id_check_char
from hub.store import Sealer, connect, migrate
from hub.store.sealing import decode_key, new_key_encryption_key
from tests.conftest import RUN_ID, migrated_sqlite, postgres_database

DOCUMENT = "query Enterprise($uscc: String!) { enterprise(uscc: $uscc) { name legalRep { name } } }"


def enterprise_uscc(n: int) -> str:
    body = f"MA{n:06d}"
    return uscc("91", "330100", body + organisation_check(body))


def person_id(n: int) -> str:
    first17 = f"3301021980{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return first17 + id_check_char(first17)


def disclosure(store: AuditStore, n: int, *, client: str = "market-a1", purpose: str = "许可审批") -> Disclosure:
    """Request ``n``: enterprise ``n % 5`` and person ``n % 3``, one field masked, one denied."""
    return Disclosure(
        request_id=f"req-{n}-{uuid.uuid4().hex[:6]}",
        client_id=client,
        department=client.split("-")[0],
        end_user=f"officer-{n % 4}",
        purpose=purpose,
        case_number=f"CASE-2026-{n:05d}",
        operation_name="Enterprise",
        operation_hash=operation_hash(DOCUMENT),
        subjects=(
            SubjectDisclosure(
                store.pseudonyms.enterprise(enterprise_uscc(n % 5)), {"name": "allow", "legalRep": "mask"}
            ),
            SubjectDisclosure(store.pseudonyms.person(person_id(n % 3)), {"name": "mask", "phone": "deny"}),
        ),
    )


@pytest.fixture
def key_encryption_key() -> str:
    return new_key_encryption_key()


@pytest.fixture(params=["sqlite", "postgres"])
def audit_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database of the test's own already at the migrations' head (made from the run's migrated one)."""
    if request.param == "sqlite":
        return migrated_sqlite(tmp_path)
    return str(request.getfixturevalue("audit_postgres_migrated_url"))


@pytest.fixture(params=["sqlite", "postgres"])
def empty_audit_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of the test's own, for the tests that migrate it step by step."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}"
    return str(request.getfixturevalue("audit_postgres_url"))


@pytest.fixture
async def audit_postgres_url(postgres_url: str) -> AsyncIterator[str]:
    """An empty database of the test's own on the run's PostgreSQL server (``postgres_url``)."""
    async with postgres_database(postgres_url, f"hub_audit_{RUN_ID}_{uuid.uuid4().hex[:6]}") as url:
        yield url


@pytest.fixture
async def audit_postgres_migrated_url(postgres_url: str, postgres_template: str) -> AsyncIterator[str]:
    """A database of the test's own made from ``postgres_template``: already at head."""
    name = f"hub_audit_{RUN_ID}_{uuid.uuid4().hex[:6]}"
    async with postgres_database(postgres_url, name, template=postgres_template) as url:
        yield url


def make_store(url: str, key_encryption_key: str, seal_every: int | None = None) -> AuditStore:
    keys = AuditKeys.from_sealer(Sealer(decode_key(key_encryption_key)))
    return AuditStore(connect(url), keys, seal_every=seal_every)


@pytest.fixture
async def store(audit_url: str, key_encryption_key: str) -> AsyncIterator[AuditStore]:
    """A migrated, empty audit log sealed every 4 records."""
    audit = make_store(audit_url, key_encryption_key, seal_every=4)
    await migrate(audit.engine)
    try:
        yield audit
    finally:
        await audit.engine.dispose()


async def fill(store: AuditStore, count: int, *, indexed: bool = True) -> list[Disclosure]:
    """``count`` records appended one by one; ``indexed``: their subject index written too (on an
    SQLite file it is written in batches after the records, ``AuditStore.index_subjects``)."""
    written = [disclosure(store, n) for n in range(1, count + 1)]
    for item in written:
        await store.append(item)
    if indexed:
        await store.index_subjects()
    return written


async def query_plan(store: AuditStore, query: Any) -> str:
    """The database's plan for a query, as one line (PostgreSQL told not to scan: the tables are small)."""
    compiled = query.compile(dialect=store.engine.dialect, compile_kwargs={"literal_binds": True})
    async with store.engine.connect() as conn:
        if not store.sqlite:
            await conn.execute(text("SET enable_seqscan = off"))
        explain = "EXPLAIN QUERY PLAN" if store.sqlite else "EXPLAIN"
        return " ".join(str(r[-1]) for r in await conn.exec_driver_sql(f"{explain} {compiled}"))


@pytest.fixture
def blocks_of_four(monkeypatch: pytest.MonkeyPatch) -> int:
    """SQLite's subject index in blocks of 4 seqs (``tables.SUBJECT_BLOCK``) for a fresh log: ten
    records span three blocks, the last partial (1-3, 4-7, 8-10)."""
    from hub.audit import tables

    monkeypatch.setattr(tables, "SUBJECT_BLOCK", 4)
    return 4


async def reindex(store: AuditStore) -> None:
    """SQLite: ``audit_subjects`` rebuilt from the records up to the mark, as an intruder who covers
    their tracks would after editing the records (PostgreSQL's keys move with the rows: nothing)."""
    if not store.sqlite:
        return
    from hub.audit.records import references, subject_key
    from hub.audit.tables import block_of

    async with store.engine.begin() as conn:
        mark = (await conn.execute(text("SELECT seq FROM audit_index WHERE id = 1"))).scalar_one()
        rows = (await conn.execute(text("SELECT seq, subjects, layout FROM audit_records WHERE seq BETWEEN 1 AND :m"),
                                   {"m": mark})).all()
        keyed = {(subject_key(ref), block_of(seq)) for seq, subjects, layout in rows
                 for ref in references(json.loads(subjects), layout)}
        await conn.execute(text("DELETE FROM audit_subjects"))
        if keyed:
            await conn.execute(text("INSERT INTO audit_subjects (subject_key, block) VALUES (:k, :b)"),
                               [{"k": k, "b": b} for k, b in sorted(keyed)])
