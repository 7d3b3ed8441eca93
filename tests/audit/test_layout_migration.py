"""Logs written before records were grouped (layout 1: an entry per subject, an index row per subject
as its reference) are carried over by migration 0010: their chain, MACs, head and seals still verify,
who-accessed still finds their subjects, and new records (layout 2) chain on from the old head.
"""

from __future__ import annotations

import json

from sqlalchemy import text

from hub.audit import AuditStore, link, verify, who_accessed
from hub.audit.records import canonical_json
from hub.audit.seals import write_seal
from hub.store import migrate
from tests.audit.conftest import disclosure, enterprise_uscc, make_store

LEGACY = 12


async def write_legacy_log(store: AuditStore, count: int) -> None:
    """Records as the hub wrote them before migration 0010, straight into a database at 0009."""
    prev, seq = "0" * 64, 0
    async with store.engine.begin() as conn:
        for seq in range(1, count + 1):
            values = disclosure(store, seq).as_dict()
            record_hash = link(prev, canonical_json(values))
            await conn.execute(text(
                "INSERT INTO audit_records (seq, time, request_id, client_id, department, end_user, purpose,"
                " case_number, operation_name, operation_hash, subjects, prev_hash, hash, mac) VALUES (:seq, :time,"
                " :request_id, :client_id, :department, :end_user, :purpose, :case_number, :operation_name,"
                " :operation_hash, :subjects, :prev, :hash, :mac)"
            ), {**values, "subjects": json.dumps(values["subjects"], ensure_ascii=False), "seq": seq, "prev": prev,
                "hash": record_hash, "mac": store.keys.row_mac(record_hash)})
            for subject in {s["subject"] for s in values["subjects"]}:
                await conn.execute(text("INSERT INTO audit_subjects (seq, subject) VALUES (:seq, :subject)"),
                                   {"seq": seq, "subject": subject})
            if seq % 5 == 0:
                await write_seal(conn, store.keys.sealer, seq, record_hash, values["time"])
            prev = record_hash
        await conn.execute(text("UPDATE audit_head SET seq = :seq, hash = :hash, mac = :mac WHERE id = 1"),
                           {"seq": seq, "hash": prev, "mac": store.keys.head_mac(seq, prev)})


async def test_a_log_written_before_grouping_verifies_after_the_migration_and_goes_on(
    empty_audit_url: str, key_encryption_key: str
) -> None:
    store = make_store(empty_audit_url, key_encryption_key, seal_every=5)
    try:
        await migrate(store.engine, "0009")
        await write_legacy_log(store, LEGACY)
        await migrate(store.engine)
        report = await verify(store)
        assert report.intact and report.records == LEGACY and report.seals == 2, report.findings
        found = await who_accessed(store, enterprise_uscc(1))
        assert [a.seq for a in found] == [n for n in range(1, LEGACY + 1) if n % 5 == 1]
        assert found[0].fields == {"name": "allow", "legalRep": "mask"}
        assert [await store.append(disclosure(store, n)) for n in range(13, 17)] == [13, 14, 15, 16]
        async with store.engine.connect() as conn:
            layouts = (await conn.execute(text("SELECT layout FROM audit_records ORDER BY seq"))).scalars().all()
            usage = (await conn.execute(text("SELECT sum(records), sum(subjects) FROM audit_usage"))).one()
        assert layouts == [1] * LEGACY + [2] * 4
        assert tuple(usage) == (16, 32)  # two subjects a record, carried over and counted on
        report = await verify(store)
        assert report.intact and report.records == 16 and report.seals == 3, report.findings
        assert [a.seq for a in await who_accessed(store, enterprise_uscc(1))][-1] == 16
    finally:
        await store.engine.dispose()


async def test_an_edited_legacy_record_is_still_reported_after_the_migration(
    empty_audit_url: str, key_encryption_key: str
) -> None:
    store = make_store(empty_audit_url, key_encryption_key)
    try:
        await migrate(store.engine, "0009")
        await write_legacy_log(store, 6)
        await migrate(store.engine)
        async with store.engine.begin() as conn:
            await conn.execute(text("UPDATE audit_records SET purpose = 'curiosity' WHERE seq = 3"))
        assert (await verify(store)).kinds() == {(3, "edited")}
    finally:
        await store.engine.dispose()


