"""The subject index as each database keeps it (migration 0017).

SQLite: a record's ``audit_subjects`` rows (a row per subject per block of seqs, migration 0019) are
not written in its own transaction but in batches after it (``AuditStore.index_subjects``), complete
through ``audit_index.seq``; who-accessed reads the records past that mark directly, and ``verify``
holds the index to the mark. PostgreSQL: the keys are
the record's own ``subject_keys``, sorted, under a GIN index.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from hub.audit import AuditStore, verify, who_accessed
from hub.audit import store as audit_store
from hub.audit.records import subject_key
from hub.store import migrate
from tests.audit.conftest import disclosure, enterprise_uscc, fill, make_store, person_id
from tests.audit.test_tampering import found, tamper


@pytest.fixture
async def sqlite_store(tmp_path: Path, key_encryption_key: str, monkeypatch: pytest.MonkeyPatch) -> AuditStore:
    """An SQLite file's log whose index is written only when a test says so."""
    monkeypatch.setattr(audit_store, "INDEX_EVERY", 10_000)
    monkeypatch.setattr(audit_store, "INDEX_IDLE", 3600.0)
    store = make_store(f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}", key_encryption_key, seal_every=4)
    await migrate(store.engine)
    yield store
    await store.engine.dispose()


async def scalar(store: AuditStore, query: str) -> object:
    async with store.engine.connect() as conn:
        return (await conn.execute(text(query))).scalar_one()


async def test_records_are_committed_without_their_index_rows_and_found_all_the_same(sqlite_store: AuditStore) -> None:
    await fill(sqlite_store, 12, indexed=False)
    assert await scalar(sqlite_store, "SELECT count(*) FROM audit_subjects") == 0
    assert await scalar(sqlite_store, "SELECT seq FROM audit_index") == 0
    assert [a.seq for a in await who_accessed(sqlite_store, enterprise_uscc(2))] == [2, 7, 12]
    assert [a.seq for a in await who_accessed(sqlite_store, person_id(1))] == [1, 4, 7, 10]
    report = await verify(sqlite_store)
    assert report.intact and report.records == 12, report.findings

    assert await sqlite_store.index_subjects() == 12
    assert await scalar(sqlite_store, "SELECT seq FROM audit_index") == 12
    # Twelve records in one block name five enterprises and three persons: a row for each.
    assert await scalar(sqlite_store, "SELECT count(*) FROM audit_subjects") == 8
    assert [a.seq for a in await who_accessed(sqlite_store, enterprise_uscc(2))] == [2, 7, 12]
    await sqlite_store.append(disclosure(sqlite_store, 17))  # past the mark again
    assert [a.seq for a in await who_accessed(sqlite_store, enterprise_uscc(2))] == [2, 7, 12, 13]
    assert (await verify(sqlite_store)).intact
    assert (await verify(sqlite_store, since_seal=12)).intact


async def test_a_batch_is_indexed_by_itself_once_enough_records_wait(
    sqlite_store: AuditStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_store, "INDEX_EVERY", 5)
    await fill(sqlite_store, 5, indexed=False)
    assert await _mark_reaches(sqlite_store, 5)


async def test_the_rest_is_indexed_by_itself_when_appends_stop(
    sqlite_store: AuditStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_store, "INDEX_IDLE", 0.05)
    await fill(sqlite_store, 3, indexed=False)
    assert await _mark_reaches(sqlite_store, 3)
    assert await scalar(sqlite_store, "SELECT count(*) FROM audit_subjects") == 6  # three records, no subject twice


async def _mark_reaches(store: AuditStore, seq: int) -> bool:
    for _ in range(200):
        if await scalar(store, "SELECT seq FROM audit_index") == seq:
            return True
        await asyncio.sleep(0.05)
    return False


async def test_a_mark_moved_past_unindexed_records_is_reported(sqlite_store: AuditStore, blocks_of_four: int) -> None:
    # Blocks 4-7 and 8-10 then lack subjects that 7 (enterprise 2) and 8 (enterprise 3) name there.
    await fill(sqlite_store, 6, indexed=False)
    await sqlite_store.index_subjects()
    await sqlite_store.append(disclosure(sqlite_store, 7))
    await sqlite_store.append(disclosure(sqlite_store, 8))
    await tamper(sqlite_store, "UPDATE audit_index SET seq = 8")  # who-accessed would no longer read 7 and 8
    assert found(await verify(sqlite_store)) == {(7, "index"), (8, "index")}


async def test_a_removed_mark_is_reported_and_who_accessed_reads_every_record(sqlite_store: AuditStore) -> None:
    await fill(sqlite_store, 6)
    await tamper(sqlite_store, "DELETE FROM audit_index")
    assert found(await verify(sqlite_store)) == {(0, "index")}
    assert [a.seq for a in await who_accessed(sqlite_store, enterprise_uscc(2))] == [2]


async def test_part_of_a_records_rows_past_the_mark_is_reported(sqlite_store: AuditStore) -> None:
    await fill(sqlite_store, 4, indexed=False)
    key = subject_key(sqlite_store.pseudonyms.enterprise(enterprise_uscc(3)))
    await tamper(sqlite_store, "INSERT INTO audit_subjects (subject_key, block) VALUES (:key, 0)", key=key)
    assert found(await verify(sqlite_store)) == {(3, "index")}


async def test_an_incremental_check_reads_the_index_of_its_records_only_and_finds_a_gap(
    store: AuditStore, blocks_of_four: int
) -> None:
    await fill(store, 10)
    if store.sqlite:  # block 8-10's row for enterprise 4, which record 9 alone names there
        key = subject_key(store.pseudonyms.enterprise(enterprise_uscc(4)))
        await tamper(store, "DELETE FROM audit_subjects WHERE block = 2 AND subject_key = :key", key=key)
    else:
        await tamper(store, "UPDATE audit_records SET subject_keys = subject_keys[2:] WHERE seq = 9")
    assert found(await verify(store, since_seal=8)) == {(9, "index")}
    assert found(await verify(store)) == {(9, "index")}


async def test_each_record_carries_its_sorted_subject_keys_on_postgresql(store: AuditStore) -> None:
    written = await fill(store, 3)
    async with store.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT seq, subject_keys FROM audit_records ORDER BY seq"))).all()
    if store.sqlite:
        assert all(keys is None for _, keys in rows)
        return
    for (seq, keys), item in zip(rows, written, strict=True):
        assert keys == sorted(subject_key(s.subject) for s in item.subjects), seq


async def test_a_record_whose_subjects_cannot_be_read_is_reported_and_the_batch_goes_past_it(
    sqlite_store: AuditStore,
) -> None:
    await fill(sqlite_store, 4, indexed=False)
    await tamper(sqlite_store, "UPDATE audit_records SET subjects = 'not json' WHERE seq = 2")
    assert await sqlite_store.index_subjects() == 4
    assert await scalar(sqlite_store, "SELECT seq FROM audit_index") == 4
    assert await scalar(sqlite_store, "SELECT count(*) FROM audit_subjects") == 5  # 1, 3 and 4: three enterprises, two persons
    assert found(await verify(sqlite_store)) == {(2, "edited")}


async def test_a_batch_is_written_in_transactions_of_a_few_rows_each(
    sqlite_store: AuditStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    writer = importlib.import_module("hub.audit.sqlite_writer")
    monkeypatch.setattr(writer, "INDEX_ROWS", 3)  # two records (2 subjects each) a transaction
    commits: list[int] = []
    chunks = writer._chunks
    monkeypatch.setattr(writer, "_chunks", lambda named: [commits.append(len(c)) or c for c in chunks(named)])
    await fill(sqlite_store, 7, indexed=False)
    assert await sqlite_store.index_subjects() == 7
    assert commits == [2, 2, 2, 1]
    assert await scalar(sqlite_store, "SELECT seq FROM audit_index") == 7
    assert await scalar(sqlite_store, "SELECT count(*) FROM audit_subjects") == 8  # in one block: 5 + 3 subjects
    assert (await verify(sqlite_store)).intact
