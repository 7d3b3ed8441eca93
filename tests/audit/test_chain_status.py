"""The chain's status as an auditor's page shows it: records, last seal, findings, checked now."""

from __future__ import annotations

from sqlalchemy import text

from hub.audit import AuditStore
from hub.audit.queries import chain_status
from tests.audit.conftest import fill


async def test_an_empty_log_is_intact_and_never_sealed(store: AuditStore) -> None:
    status = await chain_status(store)
    assert (status.records, status.last_seq, status.seals, status.findings) == (0, 0, 0, 0)
    assert status.intact and status.last_sealed_at is None and status.last_sealed_seq is None


async def test_an_intact_log_reports_its_records_and_latest_seal(store: AuditStore) -> None:
    await fill(store, 10)  # sealed every 4 records: at 4 and 8
    status = await chain_status(store)
    assert (status.records, status.last_seq, status.seals) == (10, 10, 2)
    assert status.last_sealed_seq == 8 and status.last_sealed_at is not None
    assert status.last_sealed_at.endswith("Z") and status.last_sealed_at <= status.checked_at
    assert status.intact and status.by_kind == {} and status.first_findings == ()


async def test_a_manual_seal_is_the_latest(store: AuditStore) -> None:
    await fill(store, 10)
    seal = await store.seal()
    assert seal is not None
    status = await chain_status(store)
    assert (status.seals, status.last_sealed_seq, status.last_sealed_at) == (3, 10, seal.sealed_at)


async def test_tampering_is_counted_by_kind(store: AuditStore) -> None:
    await fill(store, 10)
    async with store.engine.begin() as conn:
        await conn.execute(text("UPDATE audit_records SET purpose = '统计' WHERE seq IN (2, 6)"))
        await conn.execute(text("DELETE FROM audit_records WHERE seq = 9"))
    status = await chain_status(store)
    assert not status.intact
    assert status.by_kind == {"deleted": 1, "edited": 2}
    assert status.findings == 3 and [f.seq for f in status.first_findings] == [2, 6, 9]


async def test_only_the_first_findings_are_kept_but_all_are_counted(store: AuditStore) -> None:
    await fill(store, 10)
    async with store.engine.begin() as conn:
        await conn.execute(text("UPDATE audit_records SET purpose = '统计'"))
    status = await chain_status(store, show=3)
    assert status.findings == 10 and status.by_kind == {"edited": 10}
    assert [f.seq for f in status.first_findings] == [1, 2, 3]
