"""Auditors' question: who accessed this enterprise's or this person's data, when and why."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hub.audit import AuditStore, who_accessed
from hub.audit.queries import _naming
from hub.audit.tables import AuditRecordRow
from hub.identifiers.errors import InvalidIdentifier
from tests.audit.conftest import query_plan, enterprise_uscc, fill, person_id


async def test_an_enterprise_sees_each_disclosure_of_its_data_oldest_first(store: AuditStore) -> None:
    await fill(store, 12)
    accesses = await who_accessed(store, enterprise_uscc(2))
    assert [a.seq for a in accesses] == [2, 7, 12]
    first = accesses[0]
    assert (first.client_id, first.department, first.purpose) == ("market-a1", "market", "许可审批")
    assert first.case_number == "CASE-2026-00002" and first.end_user == "officer-2"
    assert first.fields == {"name": "allow", "legalRep": "mask"}
    assert first.time.endswith("Z")


async def test_a_person_is_found_by_id_number_through_the_keyed_hash(store: AuditStore) -> None:
    await fill(store, 9)
    assert person_id(0).endswith("X")
    accesses = await who_accessed(store, person_id(0).lower())  # the X check character typed as x
    assert [a.seq for a in accesses] == [3, 6, 9]
    assert all(a.fields == {"name": "mask", "phone": "deny"} for a in accesses)


async def test_a_subject_nobody_accessed_has_an_empty_answer(store: AuditStore) -> None:
    await fill(store, 3)
    assert await who_accessed(store, enterprise_uscc(4000)) == []


async def test_a_malformed_identifier_is_refused_not_searched(store: AuditStore) -> None:
    with pytest.raises(InvalidIdentifier):
        await who_accessed(store, "330102198001010019")  # wrong check character


async def test_the_lookup_reads_the_subject_index_not_the_whole_log(store: AuditStore) -> None:
    await fill(store, 20)
    references = frozenset({store.pseudonyms.enterprise(enterprise_uscc(1))})
    plan = await query_plan(store, select(AuditRecordRow).where(_naming(store, references)))
    if store.sqlite:  # the B-tree by key, and past its mark the records by seq
        assert "PRIMARY KEY (subject_key=?)" in plan, plan
        assert "SCAN audit_subjects" not in plan and "SCAN audit_records" not in plan, plan
    else:  # the GIN index over the records' keys
        assert "ix_audit_records_subject_keys" in plan and "Seq Scan" not in plan, plan
