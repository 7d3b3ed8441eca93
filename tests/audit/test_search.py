"""Auditors' search: disclosures by client, subject, purpose, case and time, newest first, page by page."""

from __future__ import annotations

import dataclasses

import pytest

from hub.audit import AuditStore, Disclosure
from hub.audit.queries import Access, _search_query, search
from hub.audit.search import MAX_LIMIT, criteria
from hub.identifiers.errors import InvalidIdentifier
from tests.audit.conftest import query_plan, disclosure, enterprise_uscc, fill, person_id

# Record n of ``timed`` is written at 2026-11-0{n}T02:00:00Z, i.e. 10:00 in Beijing.
DAY = "2026-11-{:02d}T02:00:00.000000Z"


async def timed(store: AuditStore, count: int) -> list[Disclosure]:
    """``count`` disclosures a day apart; every third by another client for another purpose."""
    written = []
    for n in range(1, count + 1):
        other = n % 3 == 0
        item = disclosure(
            store,
            n,
            client="taxation-b2" if other else "market-a1",
            purpose="信用监管" if other else "许可审批",
        )
        written.append(dataclasses.replace(item, time=DAY.format(n)))
    for item in written:
        await store.append(item)
    return written


def seqs(accesses: list[Access]) -> list[int]:
    return [a.seq for a in accesses]


async def test_without_criteria_the_newest_disclosures_come_first(store: AuditStore) -> None:
    await fill(store, 12)
    accesses = await search(store)
    assert seqs(accesses) == list(range(12, 0, -1))
    newest = accesses[0]
    assert (newest.client_id, newest.purpose, newest.case_number) == (
        "market-a1",
        "许可审批",
        "CASE-2026-00012",
    )
    assert newest.request_id.startswith("req-12-") and len(newest.operation_hash) == 64
    assert newest.fields == {}  # no subject asked about
    assert newest.subjects[store.pseudonyms.enterprise(enterprise_uscc(2))] == {
        "name": "allow",
        "legalRep": "mask",
    }


async def test_pages_follow_one_another_by_seq_without_gaps_or_repeats(store: AuditStore) -> None:
    await fill(store, 12)
    pages, before = [], None
    while page := await search(store, limit=5, before_seq=before):
        pages.append(seqs(page))
        before = page[-1].seq
    assert pages == [[12, 11, 10, 9, 8], [7, 6, 5, 4, 3], [2, 1]]


async def test_a_page_is_stable_while_new_disclosures_arrive(store: AuditStore) -> None:
    await fill(store, 6)
    first = await search(store, limit=3)
    await fill(store, 4)  # seqs 7-10 land between the two pages
    assert seqs(await search(store, limit=3, before_seq=first[-1].seq)) == [3, 2, 1]


async def test_by_client_and_by_purpose(store: AuditStore) -> None:
    await timed(store, 9)
    assert seqs(await search(store, client_id="taxation-b2")) == [9, 6, 3]
    assert seqs(await search(store, purpose="许可审批")) == [8, 7, 5, 4, 2, 1]
    assert await search(store, client_id="market-a1", purpose="信用监管") == []


async def test_by_case_number(store: AuditStore) -> None:
    await fill(store, 8)
    [found] = await search(store, case_number="CASE-2026-00005")
    assert found.seq == 5 and found.end_user == "officer-1"


async def test_by_enterprise_shows_that_subjects_fields(store: AuditStore) -> None:
    await fill(store, 12)
    accesses = await search(store, subject=enterprise_uscc(2))
    assert seqs(accesses) == [12, 7, 2]
    assert all(a.fields == {"name": "allow", "legalRep": "mask"} for a in accesses)


async def test_by_person_through_the_keyed_hash_never_the_number(store: AuditStore) -> None:
    await fill(store, 9)
    accesses = await search(store, subject=person_id(1))
    assert seqs(accesses) == [7, 4, 1]
    assert accesses[0].fields == {"name": "mask", "phone": "deny"}
    assert all(person_id(1) not in str(a) for a in accesses)


async def test_criteria_combine_and_each_narrows(store: AuditStore) -> None:
    await timed(store, 15)
    accesses = await search(store, subject=enterprise_uscc(0), client_id="taxation-b2")
    assert seqs(accesses) == [15]  # enterprise 0 is in 5, 10, 15; taxation-b2 in every third
    assert seqs(await search(store, subject=enterprise_uscc(0), limit=2)) == [15, 10]


async def test_a_time_window_includes_its_start_and_excludes_its_end(store: AuditStore) -> None:
    await timed(store, 6)
    window = await search(store, since="2026-11-02T02:00:00Z", until="2026-11-05T02:00:00Z")
    assert seqs(window) == [4, 3, 2]


async def test_a_time_with_another_offset_means_the_same_instant(store: AuditStore) -> None:
    await timed(store, 6)
    beijing = await search(store, since="2026-11-03T10:00:00+08:00")  # 02:00 UTC on the 3rd
    assert seqs(beijing) == [6, 5, 4, 3]
    assert seqs(await search(store, until="2026-11-03T09:59:59.999999+08:00")) == [2, 1]


async def test_a_subject_nobody_accessed_finds_nothing(store: AuditStore) -> None:
    await fill(store, 3)
    assert await search(store, subject=enterprise_uscc(4000)) == []


async def test_an_empty_log_finds_nothing(store: AuditStore) -> None:
    assert await search(store) == []


@pytest.mark.parametrize("limit", [0, -1, MAX_LIMIT + 1, True, "10", 2.5])
async def test_a_limit_outside_one_to_five_hundred_is_refused(store: AuditStore, limit: object) -> None:
    with pytest.raises(ValueError, match="limit must be a whole number from 1 to 500"):
        await search(store, limit=limit)  # type: ignore[arg-type]


async def test_the_largest_limit_is_allowed(store: AuditStore) -> None:
    await fill(store, 3)
    assert len(await search(store, limit=MAX_LIMIT)) == 3


@pytest.mark.parametrize("before", [0, -5, True, "7", 2**63, -(2**63) - 1, 2**64, 10**30])
async def test_a_cursor_that_is_no_seq_is_refused(store: AuditStore, before: object) -> None:
    with pytest.raises(ValueError, match="before_seq must be a record's seq"):
        await search(store, before_seq=before)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("criterion", "value", "message"),
    [
        ("client_id", "", "client_id must be a non-empty string"),
        ("client_id", "   ", "client_id must be a non-empty string"),
        ("client_id", "c" * 65, "client_id is longer than any recorded one"),
        ("purpose", "", "purpose must be a non-empty string"),
        ("purpose", "p" * 201, "purpose is longer than any recorded one"),
        ("case_number", "", "case_number must be a non-empty string"),
        ("case_number", 42, "case_number must be a non-empty string"),
        ("since", "yesterday", "since must be an ISO 8601 time"),
        ("since", "2026-11-26T09:00:00", "since (2026-11-26T09:00:00) needs a time with its UTC offset"),
        ("until", "2026-11-26", "until (2026-11-26) needs a time with its UTC offset"),
        ("until", "2026-13-01T00:00:00Z", "until must be an ISO 8601 time"),
        ("until", 1764115200, "until must be an ISO 8601 time"),
    ],
)
async def test_a_malformed_criterion_is_refused_naming_it(
    store: AuditStore, criterion: str, value: object, message: str
) -> None:
    with pytest.raises(ValueError) as refused:
        await search(store, **{criterion: value})  # type: ignore[arg-type]
    assert str(refused.value).startswith(message)


async def test_a_window_that_ends_before_it_starts_is_refused(store: AuditStore) -> None:
    with pytest.raises(ValueError, match="since .* must be before until"):
        await search(store, since="2026-11-03T00:00:00Z", until="2026-11-03T07:59:59+08:00")


@pytest.mark.parametrize("subject", ["12345", "330102198001010019", "91110000600037341N", ""])
async def test_a_subject_that_is_neither_a_uscc_nor_an_id_number_is_refused(
    store: AuditStore, subject: str
) -> None:
    with pytest.raises(InvalidIdentifier):
        await search(store, subject=subject)


async def test_a_subject_search_reads_the_subject_index(store: AuditStore) -> None:
    await fill(store, 20)
    references = frozenset({store.pseudonyms.enterprise(enterprise_uscc(1))})
    asked = criteria(
        client_id=None, purpose=None, case_number=None, since=None, until=None, limit=5, before_seq=None
    )
    plan = await query_plan(store, _search_query(store, asked, references))
    if store.sqlite:
        assert "PRIMARY KEY (subject_key=?)" in plan, plan
        assert "SCAN audit_subjects" not in plan and "SCAN audit_records" not in plan, plan
    else:
        assert "ix_audit_records_subject_keys" in plan, plan
