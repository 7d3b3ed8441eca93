"""Logs written with a row per subject in ``audit_subjects`` (migrations 0010 to 0012) are carried
over by migration 0017: PostgreSQL moves each record's keys into its ``subject_keys`` and drops the
table; SQLite keeps the table and marks every record indexed. The chain still verifies, who-accessed
still finds every subject, and new records chain on.
"""

from __future__ import annotations

import json

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from hub.audit import AuditStore, link, verify, who_accessed
from hub.audit.records import canonical_json_v2, subject_key
from hub.audit.seals import write_seal
from hub.store import migrate
from hub.store.database import MIGRATIONS
from tests.audit.conftest import disclosure, enterprise_uscc, make_store, person_id

BEFORE = 12


def _downgrade(connection: Connection, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def write_log_at_0012(store: AuditStore, count: int) -> None:
    """Records in layout 2 with their index rows, as the hub wrote them before migration 0017."""
    prev, seq = "0" * 64, 0
    async with store.engine.begin() as conn:
        for seq in range(1, count + 1):
            values = disclosure(store, seq).stored()
            record_hash = link(prev, canonical_json_v2(values))
            await conn.execute(text(
                "INSERT INTO audit_records (seq, time, request_id, client_id, department, end_user, purpose,"
                " case_number, operation_name, operation_hash, subjects, layout, prev_hash, hash, mac) VALUES (:seq,"
                " :time, :request_id, :client_id, :department, :end_user, :purpose, :case_number, :operation_name,"
                " :operation_hash, :subjects, :layout, :prev, :hash, :mac)"
            ), {**values, "subjects": json.dumps(values["subjects"], ensure_ascii=False), "seq": seq, "prev": prev,
                "hash": record_hash, "mac": store.keys.row_mac(record_hash)})
            keys = {subject_key(ref) for group in values["subjects"] for ref in group["subjects"]}
            for key in sorted(keys):
                await conn.execute(text("INSERT INTO audit_subjects (subject_key, seq) VALUES (:key, :seq)"),
                                   {"key": key, "seq": seq})
            if seq % 5 == 0:
                await write_seal(conn, store.keys.sealer, seq, record_hash, values["time"])
            prev = record_hash
        await conn.execute(text("UPDATE audit_head SET seq = :seq, hash = :hash, mac = :mac WHERE id = 1"),
                           {"seq": seq, "hash": prev, "mac": store.keys.head_mac(seq, prev)})


async def test_a_log_with_a_row_per_subject_verifies_after_the_migration_and_goes_on(
    empty_audit_url: str, key_encryption_key: str
) -> None:
    store = make_store(empty_audit_url, key_encryption_key, seal_every=5)
    try:
        await migrate(store.engine, "0012")
        await write_log_at_0012(store, BEFORE)
        await migrate(store.engine)
        report = await verify(store)
        assert report.intact and report.records == BEFORE and report.seals == 2, report.findings
        async with store.engine.connect() as conn:
            if store.sqlite:
                assert (await conn.execute(text("SELECT seq FROM audit_index"))).scalar_one() == BEFORE
                # A row per subject per block since 0019: twelve records in one block, 5 + 3 subjects.
                assert (await conn.execute(text("SELECT count(*) FROM audit_subjects"))).scalar_one() == 8
            else:
                tables = (await conn.execute(text("SELECT to_regclass('audit_subjects')"))).scalar_one()
                assert tables is None
                sizes = (await conn.execute(text("SELECT cardinality(subject_keys) FROM audit_records"))).scalars()
                assert list(sizes) == [2] * BEFORE
        assert [a.seq for a in await who_accessed(store, enterprise_uscc(1))] == [1, 6, 11]
        assert [a.seq for a in await who_accessed(store, person_id(2))] == [2, 5, 8, 11]
        assert [await store.append(disclosure(store, n)) for n in range(13, 17)] == [13, 14, 15, 16]
        await store.index_subjects()
        report = await verify(store)
        assert report.intact and report.records == 16 and report.seals == 3, report.findings
        assert [a.seq for a in await who_accessed(store, enterprise_uscc(1))] == [1, 6, 11, 16]
    finally:
        await store.engine.dispose()


async def test_a_deleted_index_row_before_the_migration_is_still_reported_after_it(
    empty_audit_url: str, key_encryption_key: str
) -> None:
    store = make_store(empty_audit_url, key_encryption_key)
    try:
        await migrate(store.engine, "0012")
        await write_log_at_0012(store, 6)
        async with store.engine.begin() as conn:
            await conn.execute(text("DELETE FROM audit_subjects WHERE seq = 4"))
        await migrate(store.engine)
        assert {(f.seq, f.kind) for f in (await verify(store)).findings} == {(4, "index")}
    finally:
        await store.engine.dispose()


async def test_the_migration_goes_back_with_every_records_index_rows(
    empty_audit_url: str, key_encryption_key: str
) -> None:
    store = make_store(empty_audit_url, key_encryption_key)
    try:
        await migrate(store.engine)
        for n in range(1, 8):
            await store.append(disclosure(store, n))  # on SQLite not yet indexed: the downgrade indexes them
        async with store.engine.begin() as conn:
            await conn.run_sync(_downgrade, "0012")
        async with store.engine.connect() as conn:
            rows = (await conn.execute(text("SELECT seq, count(*) FROM audit_subjects GROUP BY seq"))).all()
        assert sorted(rows) == [(n, 2) for n in range(1, 8)]
    finally:
        await store.engine.dispose()
