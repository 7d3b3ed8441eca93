"""Appending: consecutive seqs, each hash chained to the one before, seals every N, fail closed."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest
from sqlalchemy import select, text

from hub.audit import GENESIS, AuditStore, AuditWriteFailed, canonical, verify
from hub.audit.tables import AuditRecordRow
from tests.audit.conftest import disclosure, fill, make_store


async def test_appends_get_consecutive_seqs_from_one(store: AuditStore) -> None:
    assert [await store.append(disclosure(store, n)) for n in range(1, 6)] == [1, 2, 3, 4, 5]


async def test_each_hash_is_sha256_of_the_previous_hash_and_the_canonical_record(store: AuditStore) -> None:
    written = await fill(store, 3)
    async with store.engine.connect() as conn:
        rows = (await conn.execute(select(AuditRecordRow).order_by(AuditRecordRow.seq))).all()
    prev = GENESIS
    for row, item in zip(rows, written, strict=True):
        assert row.prev_hash == prev
        assert row.hash == hashlib.sha256(prev.encode() + canonical(item)).hexdigest()
        prev = row.hash


async def test_a_seal_is_written_every_n_records_over_the_latest(store: AuditStore) -> None:
    await fill(store, 9)
    async with store.engine.connect() as conn:
        sealed = (await conn.execute(text("SELECT seq FROM audit_seals ORDER BY seq"))).scalars().all()
    assert sealed == [4, 8]
    report = await verify(store)
    assert report.intact and report.seals == 2 and report.records == 9


async def test_a_seal_on_demand_signs_the_latest_record(store: AuditStore) -> None:
    assert await store.seal() is None  # nothing to seal yet
    await fill(store, 3)
    seal = await store.seal()
    assert seal is not None and seal.seq == 3
    assert (await verify(store)).seals == 1


async def test_the_log_of_a_person_holds_no_id_number_in_clear(store: AuditStore) -> None:
    from tests.audit.conftest import person_id

    await fill(store, 6)
    async with store.engine.connect() as conn:
        dump = repr((await conn.execute(select(AuditRecordRow))).all())
    assert not any(person_id(n) in dump for n in range(3))


async def test_an_append_that_cannot_be_written_raises_so_the_request_fails_closed(tmp_path: Path) -> None:
    from hub.store.sealing import new_key_encryption_key

    unmigrated = make_store(f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite'}", new_key_encryption_key())
    try:
        with pytest.raises(AuditWriteFailed, match="not recorded"):
            await unmigrated.append(disclosure(unmigrated, 1))
    finally:
        await unmigrated.engine.dispose()


async def test_a_failed_append_leaves_no_trace_and_the_chain_goes_on(store: AuditStore) -> None:
    await fill(store, 2)
    broken = disclosure(store, 3)
    object.__setattr__(broken, "purpose", "x" * 10_000)  # too long for PostgreSQL's column
    if store.sqlite:
        object.__setattr__(broken, "operation_hash", None)  # NOT NULL on both
    with pytest.raises(AuditWriteFailed):
        await store.append(broken)
    assert await store.append(disclosure(store, 4)) == 3
    assert (await verify(store)).intact


def test_a_rows_mac_is_hmac_sha256_of_row_and_its_hash_under_the_chain_key(store: AuditStore) -> None:
    record_hash = "ab" * 32
    expected = hmac.new(store.keys.chain, b"row:" + record_hash.encode(), hashlib.sha256).hexdigest()
    assert store.keys.row_mac(record_hash) == store.keys.row_mac(record_hash) == expected
    assert store.keys.row_mac_ok(record_hash, expected) and not store.keys.row_mac_ok("cd" * 32, expected)
