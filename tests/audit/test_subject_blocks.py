"""SQLite's subject index by blocks of seqs (migration 0019): a row per subject per block, who-accessed
and search reading each listed block's records and keeping those that name the subject, and ``verify``
holding each block's rows to the keys its records up to the mark name. Blocks of four seqs here, so
a few records span several blocks: 1-3, 4-7, 8-11, 12-15, 16-19, 20-23.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from hub.audit import AuditStore, verify, who_accessed
from hub.audit import store as audit_store
from hub.audit.queries import search
from hub.audit.records import subject_key
from hub.store import migrate
from tests.audit.conftest import disclosure, enterprise_uscc, fill, make_store, person_id
from tests.audit.test_tampering import found, tamper

verifying = importlib.import_module("hub.audit.verify")


@pytest.fixture
async def log(tmp_path: Path, key_encryption_key: str, monkeypatch: pytest.MonkeyPatch,
              blocks_of_four: int) -> AsyncIterator[AuditStore]:
    """An SQLite file's log, sealed every 4 records, indexed only when a test says so."""
    monkeypatch.setattr(audit_store, "INDEX_EVERY", 10_000)
    monkeypatch.setattr(audit_store, "INDEX_IDLE", 3600.0)
    store = make_store(f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}", key_encryption_key, seal_every=4)
    await migrate(store.engine)
    yield store
    await store.aclose()
    await store.engine.dispose()


async def blocks_of(store: AuditStore, reference: str) -> list[int]:
    async with store.engine.connect() as conn:
        rows = await conn.execute(text("SELECT block FROM audit_subjects WHERE subject_key = :key ORDER BY block"),
                                  {"key": subject_key(reference)})
        return list(rows.scalars())


async def test_a_subject_is_found_in_the_blocks_that_name_it_and_not_in_the_others(log: AuditStore) -> None:
    await fill(log, 20)
    two = log.pseudonyms.enterprise(enterprise_uscc(2))
    assert await blocks_of(log, two) == [0, 1, 3, 4]  # 2, 7, 12, 17: none in 8-11
    assert [a.seq for a in await who_accessed(log, enterprise_uscc(2))] == [2, 7, 12, 17]
    # Each block's other records are read and left out: a page is full, newest first, and pages on.
    assert [a.seq for a in await search(log, subject=enterprise_uscc(2), limit=2)] == [17, 12]
    assert [a.seq for a in await search(log, subject=enterprise_uscc(2), limit=2, before_seq=12)] == [7, 2]
    assert [a.seq for a in await search(log, subject=enterprise_uscc(2), limit=2, before_seq=2)] == []
    assert [a.seq for a in await search(log, subject=enterprise_uscc(2), limit=3, before_seq=17)] == [12, 7, 2]
    # Past the mark, in a block already listed and in a new one, the records themselves.
    for n in (21, 22):
        await log.append(disclosure(log, n))
    assert [a.seq for a in await who_accessed(log, enterprise_uscc(2))] == [2, 7, 12, 17, 22]
    assert [a.seq for a in await search(log, subject=enterprise_uscc(2), limit=2)] == [22, 17]
    assert [a.seq for a in await who_accessed(log, person_id(0))] == [3, 6, 9, 12, 15, 18, 21]
    report = await verify(log)
    assert report.intact and report.records == 22, report.findings


async def test_a_subject_again_in_the_same_block_is_one_row_across_batches(
    log: AuditStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importlib.import_module("hub.audit.tables"), "SUBJECT_BLOCK", 64)
    await fill(log, 6)
    async with log.engine.connect() as conn:
        before = (await conn.execute(text("SELECT count(*) FROM audit_subjects"))).scalar_one()
    await fill(log, 6)  # the same six subjects' records again, in a batch of their own
    async with log.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM audit_subjects"))).scalar_one() == before == 8
        assert (await conn.execute(text("SELECT seq FROM audit_index"))).scalar_one() == 12
    assert (await verify(log)).intact


async def test_a_key_two_subjects_share_finds_only_the_subjects_own_records(
    log: AuditStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = (log.pseudonyms.enterprise(enterprise_uscc(n)) for n in (1, 2))

    def colliding(reference: str) -> int:
        return subject_key(one) if reference == two else subject_key(reference)

    for module in ("hub.audit.queries", "hub.audit.sqlite_writer", "hub.audit.verify", "hub.audit.store"):
        monkeypatch.setattr(importlib.import_module(module), "subject_key", colliding)
    await fill(log, 12)
    assert [a.seq for a in await who_accessed(log, enterprise_uscc(1))] == [1, 6, 11]
    assert [a.seq for a in await who_accessed(log, enterprise_uscc(2))] == [2, 7, 12]
    assert [a.seq for a in await search(log, subject=enterprise_uscc(1), limit=2)] == [11, 6]
    assert (await verify(log)).intact


async def test_a_mark_inside_a_block_verifies_and_a_row_ahead_of_it_is_reported(log: AuditStore) -> None:
    await fill(log, 6)  # indexed through 6, in the middle of block 4-7
    await log.append(disclosure(log, 7))
    assert (await verify(log)).intact
    assert (await verify(log, since_seal=4)).intact
    assert [a.seq for a in await who_accessed(log, enterprise_uscc(2))] == [2, 7]
    # Enterprise 2 in block 4-7 before record 7 is indexed: no record up to the mark names it there.
    key = subject_key(log.pseudonyms.enterprise(enterprise_uscc(2)))
    await tamper(log, "INSERT INTO audit_subjects (subject_key, block) VALUES (:key, 1)", key=key)
    assert found(await verify(log)) == {(7, "index")}
    assert found(await verify(log, since_seal=4)) == {(7, "index")}


async def test_a_row_for_a_block_whose_records_do_not_name_its_subject_is_reported(log: AuditStore) -> None:
    await fill(log, 10)
    # Enterprise 2 is named in blocks 1-3 and 4-7, not in 8-10: reported at that block's first record.
    key = subject_key(log.pseudonyms.enterprise(enterprise_uscc(2)))
    await tamper(log, "INSERT INTO audit_subjects (subject_key, block) VALUES (:key, 2)", key=key)
    assert found(await verify(log)) == {(8, "index")}
    # A block no record holds.
    await tamper(log, "DELETE FROM audit_subjects WHERE block = 2 AND subject_key = :key", key=key)
    await tamper(log, "INSERT INTO audit_subjects (subject_key, block) VALUES (:key, 5)", key=key)
    assert found(await verify(log)) == {(20, "index")}


@pytest.mark.parametrize("window", [1, 2, 3, 5, 7])
async def test_a_blocks_missing_row_is_found_wherever_the_windows_end(
    log: AuditStore, monkeypatch: pytest.MonkeyPatch, window: int
) -> None:
    monkeypatch.setattr(verifying, "WINDOW", window)  # blocks straddle the check's windows
    await fill(log, 10)
    assert (await verify(log)).intact and (await verify(log, since_seal=8)).intact
    four, zero = (subject_key(log.pseudonyms.enterprise(enterprise_uscc(n))) for n in (4, 0))
    await tamper(log, "DELETE FROM audit_subjects WHERE block = 2 AND subject_key = :key", key=four)  # 9's
    await tamper(log, "DELETE FROM audit_subjects WHERE block = 1 AND subject_key = :key", key=zero)  # 5's
    assert found(await verify(log)) == {(5, "index"), (9, "index")}
    assert found(await verify(log, since_seal=4)) == {(5, "index"), (9, "index")}
    assert found(await verify(log, since_seal=8)) == {(9, "index")}


async def test_an_incremental_check_from_a_seal_inside_a_block_holds_the_records_before_it(log: AuditStore) -> None:
    await fill(log, 10)  # sealed at 8, the first of block 8-10
    three = subject_key(log.pseudonyms.enterprise(enterprise_uscc(3)))  # named there by 8 alone
    await tamper(log, "DELETE FROM audit_subjects WHERE block = 2 AND subject_key = :key", key=three)
    report = await verify(log, since_seal=8)
    assert found(report) == {(8, "index")} and report.records == 2


async def test_records_appended_and_indexed_while_the_check_reads_are_not_strays(
    log: AuditStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await fill(log, 10)
    reading = verifying._index_rows
    appended: list[int] = []

    async def meanwhile(conn, records, first, last):  # type: ignore[no-untyped-def]
        if not appended:  # the block 8-10 gets record 11 (enterprise 1, new there) and its row
            appended.append(await log.append(disclosure(log, 11)))
            await log.index_subjects()
        return await reading(conn, records, first, last)

    monkeypatch.setattr(verifying, "_index_rows", meanwhile)
    report = await verify(log)
    assert appended == [11] and report.intact and report.records == 10, report.findings


async def test_a_mark_moved_past_the_head_and_rows_for_blocks_past_the_log_are_reported(log: AuditStore) -> None:
    await fill(log, 10)
    # The records appended up to a mark moved ahead would be neither indexed nor read past the mark.
    await tamper(log, "UPDATE audit_index SET seq = 100 WHERE id = 1")
    assert found(await verify(log)) == {(0, "index")}
    assert found(await verify(log, since_seal=8)) == {(0, "index")}
    # Rows for a block past the log's end, which that mark would pass as appended during the check.
    key = subject_key(log.pseudonyms.enterprise(enterprise_uscc(2)))
    await tamper(log, "INSERT INTO audit_subjects (subject_key, block) VALUES (:key, 5)", key=key)
    assert found(await verify(log)) == {(0, "index"), (20, "index")}
    await tamper(log, "UPDATE audit_index SET seq = 10 WHERE id = 1")
    assert found(await verify(log)) == {(20, "index")}
