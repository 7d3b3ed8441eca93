"""Migration 0019 (SQLite): a log indexed with a row per subject per record (0017, 0018) is carried
into blocks of 64 seqs; it verifies after the migration, who-accessed finds every subject, new
records chain and index on, a row missing before it is still reported where the block layout can
tell, and going back gives every record up to the mark its rows again. PostgreSQL is untouched.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from hub.audit import AuditStore, verify, who_accessed
from hub.audit import store as audit_store
from hub.audit.records import references, subject_key
from hub.store import migrate
from hub.store.database import MIGRATIONS
from tests.audit.conftest import disclosure, enterprise_uscc, make_store, person_id

BEFORE = 70  # blocks 0 (1-63) and 1 (64-70)


@pytest.fixture(autouse=True)
def index_when_told(monkeypatch: pytest.MonkeyPatch) -> None:
    """No batch of its own (it writes the layout of 0019): the tests index when they say so."""
    monkeypatch.setattr(audit_store, "INDEX_EVERY", 10_000)
    monkeypatch.setattr(audit_store, "INDEX_IDLE", 3600.0)


def _downgrade(connection: Connection, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def write_log_at_0018(store: AuditStore, count: int) -> None:
    """Records appended by the hub, then their index as it was before 0019: a row per subject per
    record, the mark at the last."""
    for n in range(1, count + 1):
        await store.append(disclosure(store, n))
    async with store.engine.begin() as conn:
        rows = (await conn.execute(text("SELECT seq, subjects, layout FROM audit_records"))).all()
        keyed = sorted({(subject_key(ref), seq) for seq, subjects, layout in rows
                        for ref in references(json.loads(subjects), layout)})
        await conn.execute(text("INSERT INTO audit_subjects (subject_key, seq) VALUES (:k, :s)"),
                           [{"k": k, "s": s} for k, s in keyed])
        await conn.execute(text("UPDATE audit_index SET seq = :s"), {"s": count})


async def scalar(store: AuditStore, query: str) -> object:
    async with store.engine.connect() as conn:
        return (await conn.execute(text(query))).scalar_one()


async def test_a_log_indexed_by_record_verifies_in_blocks_and_goes_on(tmp_path: Path, key_encryption_key: str) -> None:
    store = make_store(f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}", key_encryption_key, seal_every=10)
    try:
        await migrate(store.engine, "0018")
        await write_log_at_0018(store, BEFORE)
        assert await scalar(store, "SELECT count(*) FROM audit_subjects") == 2 * BEFORE
        await migrate(store.engine)
        # Block 0 (1-63) and block 1 (64-70) each name all five enterprises and three persons.
        assert await scalar(store, "SELECT count(*) FROM audit_subjects") == 16
        assert await scalar(store, "SELECT seq FROM audit_index") == BEFORE
        report = await verify(store)
        assert report.intact and report.records == BEFORE and report.seals == 7, report.findings
        assert (await verify(store, since_seal=60)).intact
        assert [a.seq for a in await who_accessed(store, enterprise_uscc(1))] == list(range(1, BEFORE + 1, 5))
        assert [a.seq for a in await who_accessed(store, person_id(2))] == list(range(2, BEFORE + 1, 3))
        assert [await store.append(disclosure(store, n)) for n in range(71, 75)] == [71, 72, 73, 74]
        await store.index_subjects()
        report = await verify(store)
        assert report.intact and report.records == 74, report.findings
        assert [a.seq for a in await who_accessed(store, enterprise_uscc(1))] == list(range(1, 75, 5))
    finally:
        await store.aclose()
        await store.engine.dispose()


async def test_a_row_missing_before_the_migration_is_still_reported_after_it(
    tmp_path: Path, key_encryption_key: str
) -> None:
    store = make_store(f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}", key_encryption_key)
    try:
        await migrate(store.engine, "0018")
        await write_log_at_0018(store, BEFORE)
        # Record 66's enterprise row: 66 names enterprise 1 alone in block 64-70.
        key = subject_key(store.pseudonyms.enterprise(enterprise_uscc(1)))
        async with store.engine.begin() as conn:
            await conn.execute(text("DELETE FROM audit_subjects WHERE seq = 66 AND subject_key = :k"), {"k": key})
        await migrate(store.engine)
        assert {(f.seq, f.kind) for f in (await verify(store)).findings} == {(66, "index")}
    finally:
        await store.aclose()
        await store.engine.dispose()


async def test_the_migration_goes_back_with_every_indexed_records_rows(tmp_path: Path, key_encryption_key: str) -> None:
    store = make_store(f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}", key_encryption_key)
    try:
        await migrate(store.engine)
        for n in range(1, 8):
            await store.append(disclosure(store, n))
        await store.index_subjects()
        await store.append(disclosure(store, 8))  # past the mark: no rows, before 0019 as after it
        async with store.engine.begin() as conn:
            await conn.run_sync(_downgrade, "0018")
        async with store.engine.connect() as conn:
            rows = (await conn.execute(text("SELECT seq, count(*) FROM audit_subjects GROUP BY seq"))).all()
        assert sorted(rows) == [(n, 2) for n in range(1, 8)]
        await migrate(store.engine)
        assert await scalar(store, "SELECT count(*) FROM audit_subjects") == 8  # 5 + 3 subjects in block 0
        await store.index_subjects()
        report = await verify(store)
        assert report.intact and report.records == 8, report.findings
    finally:
        await store.aclose()
        await store.engine.dispose()
