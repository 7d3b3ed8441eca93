"""Migration 0018: no unique index on the records' hash, and on SQLite ``seq`` as the table's rowid.
A log written before it verifies after it (and after going back), and new records chain on.
"""

from __future__ import annotations

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from hub.audit import AuditStore, verify, who_accessed
from hub.store import migrate
from hub.store.database import MIGRATIONS
from tests.audit.conftest import disclosure, enterprise_uscc, make_store


def _downgrade(connection: Connection, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def _indexes(store: AuditStore) -> set[str]:
    """The B-trees beside the records' table (SQLite: with the automatic ones it makes for constraints)."""
    async with store.engine.connect() as conn:
        if store.sqlite:
            query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_records'"
        else:
            query = "SELECT indexname FROM pg_indexes WHERE tablename = 'audit_records'"
        return set((await conn.execute(text(query))).scalars())


SEARCH = {"ix_audit_records_client_id_seq", "ix_audit_records_purpose_seq", "ix_audit_records_case_number_seq",
          "ix_audit_records_time"}


async def test_a_log_written_before_the_migration_verifies_after_it_and_goes_on(
    empty_audit_url: str, key_encryption_key: str
) -> None:
    store = make_store(empty_audit_url, key_encryption_key, seal_every=5)
    try:
        await migrate(store.engine, "0017")
        # Not indexed yet (SQLite): this hub writes the subject index in the layout of 0019.
        assert [await store.append(disclosure(store, n)) for n in range(1, 13)] == list(range(1, 13))
        before = await _indexes(store)  # SQLite names the seq and hash keys' B-trees sqlite_autoindex_*
        assert len(before - SEARCH) == 2 if store.sqlite else "uq_audit_records_hash" in before
        await migrate(store.engine)
        await store.index_subjects()
        after = await _indexes(store)
        # SQLite: the table keyed by seq and four search indexes; PostgreSQL: the primary key, the four,
        # and the GIN index of the subject keys.
        expected = SEARCH if store.sqlite else SEARCH | {"pk_audit_records", "ix_audit_records_subject_keys"}
        assert after == expected
        report = await verify(store)
        assert report.intact and report.records == 12 and report.seals == 2, report.findings
        assert [await store.append(disclosure(store, n)) for n in range(13, 17)] == [13, 14, 15, 16]
        await store.index_subjects()
        report = await verify(store)
        assert report.intact and report.records == 16 and report.seals == 3, report.findings
        assert [a.seq for a in await who_accessed(store, enterprise_uscc(1))] == [1, 6, 11, 16]
        async with store.engine.connect() as conn:
            if store.sqlite:  # seq is the rowid: the same number, not a second key beside it
                pairs = (await conn.execute(text("SELECT rowid, seq FROM audit_records"))).all()
                assert all(rowid == seq for rowid, seq in pairs) and len(pairs) == 16
    finally:
        await store.engine.dispose()


async def test_the_migration_goes_back_with_the_unique_hash_and_the_chain_intact(
    empty_audit_url: str, key_encryption_key: str
) -> None:
    store = make_store(empty_audit_url, key_encryption_key, seal_every=4)
    try:
        await migrate(store.engine)
        for n in range(1, 9):
            await store.append(disclosure(store, n))
        async with store.engine.begin() as conn:
            await conn.run_sync(_downgrade, "0017")
        indexes = await _indexes(store)
        assert SEARCH <= indexes
        assert ("uq_audit_records_hash" in indexes) if not store.sqlite else any(
            name.startswith("sqlite_autoindex_audit_records") for name in indexes
        )
        async with store.engine.connect() as conn:  # the hash is unique again
            duplicate = "INSERT INTO audit_records (seq, time, request_id, client_id, department, purpose," \
                " operation_hash, subjects, layout, prev_hash, hash, mac) SELECT 9, time, request_id, client_id," \
                " department, purpose, operation_hash, subjects, layout, prev_hash, hash, mac FROM audit_records" \
                " WHERE seq = 8"
            with pytest.raises(IntegrityError, match="(?i)unique"):
                await conn.execute(text(duplicate))
        await migrate(store.engine)  # verified by this hub, whose SQLite subject index is that of 0019
        report = await verify(store)
        assert report.intact and report.records == 8 and report.seals == 2, report.findings
    finally:
        await store.engine.dispose()
