"""The disclosure record: canonical bytes, and no person's ID number in clear."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

import pytest

from hub.audit import Disclosure, Pseudonyms, SubjectDisclosure, canonical, operation_hash
from hub.audit.records import SubjectGroup, grouped, now_iso
from hub.identifiers.errors import InvalidIdentifier
from tests.audit.conftest import DOCUMENT, enterprise_uscc, person_id

KEY = bytes(range(32))


def record(pseudonyms: Pseudonyms) -> Disclosure:
    return Disclosure(
        request_id="req-1",
        client_id="market-a1",
        department="market",
        purpose="许可审批",
        operation_hash=operation_hash(DOCUMENT),
        subjects=(
            SubjectDisclosure(pseudonyms.person(person_id(1)), {"phone": "deny", "name": "mask"}),
            SubjectDisclosure(pseudonyms.enterprise(enterprise_uscc(1)), {"name": "allow"}),
        ),
        time="2026-11-26T08:00:00.000000Z",
    )


def test_canonical_form_is_sorted_key_json_in_utf8_without_spaces() -> None:
    data = canonical(record(Pseudonyms(KEY)))
    value = json.loads(data)
    assert data == json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert "许可审批".encode() in data
    assert value["layout"] == 2
    assert [g["fields"] for g in value["subjects"]] == [{"name": "allow"}, {"name": "mask", "phone": "deny"}]


def test_subjects_shown_the_same_fields_share_one_field_set_in_the_record() -> None:
    pseudonyms = Pseudonyms(KEY)
    fields = {"name": "allow", "status": "allow", "capital": "mask"}
    many = Disclosure(
        request_id="req-2", client_id="market-a1", department="market", purpose="许可审批",
        operation_hash=operation_hash(DOCUMENT), time="2026-11-26T08:00:00.000000Z",
        subjects=tuple(SubjectDisclosure(pseudonyms.enterprise(enterprise_uscc(n)), dict(fields)) for n in range(50)),
    )  # fmt: skip
    value = json.loads(canonical(many))
    assert len(value["subjects"]) == 1 and value["subjects"][0]["fields"] == fields
    assert value["subjects"][0]["subjects"] == sorted(pseudonyms.enterprise(enterprise_uscc(n)) for n in range(50))
    assert canonical(many).count(b"capital") == 1


def test_a_subject_named_twice_shows_the_union_of_its_fields() -> None:
    pseudonyms = Pseudonyms(KEY)
    one = pseudonyms.enterprise(enterprise_uscc(1))
    twice = Disclosure(
        request_id="req-3", client_id="market-a1", department="market", purpose="许可审批",
        operation_hash=operation_hash(DOCUMENT), time="2026-11-26T08:00:00.000000Z",
        subjects=(SubjectDisclosure(one, {"name": "allow"}), SubjectDisclosure(one, {"status": "mask"})),
    )  # fmt: skip
    assert json.loads(canonical(twice))["subjects"] == [{"fields": {"name": "allow", "status": "mask"}, "subjects": [one]}]


def test_the_same_disclosure_has_the_same_bytes_whatever_the_order_given() -> None:
    one = record(Pseudonyms(KEY))
    reordered = Disclosure.from_dict(
        {
            **one.as_dict(),
            "subjects": [
                {"subject": s.subject, "fields": dict(reversed(list(s.fields.items())))}
                for s in reversed(one.subjects)
            ],
        }
    )
    assert canonical(reordered) == canonical(one)
    assert canonical(Disclosure.from_dict(json.loads(canonical(one)))) == canonical(one)
    assert canonical(Disclosure.from_dict(one.as_dict())) == canonical(one)


def test_a_persons_id_number_is_only_a_keyed_hash() -> None:
    number = person_id(1)
    data = canonical(record(Pseudonyms(KEY)))
    assert number.encode() not in data
    assert hashlib.sha256(number.encode()).hexdigest().encode() not in data  # not an unkeyed hash either
    assert Pseudonyms(KEY).person(number) != Pseudonyms(bytes(32)).person(number)


def test_an_enterprise_uscc_is_kept_in_clear() -> None:
    assert enterprise_uscc(1).encode() in canonical(record(Pseudonyms(KEY)))


def test_an_identifier_that_is_neither_uscc_nor_id_number_is_refused() -> None:
    with pytest.raises(InvalidIdentifier):
        Pseudonyms(KEY).references("not-a-number")


def test_a_field_needs_one_of_the_three_decisions() -> None:
    with pytest.raises(ValueError, match="allow, mask or deny"):
        fields = {"name": "show"}
        SubjectDisclosure(Pseudonyms(KEY).enterprise(enterprise_uscc(1)), fields)  # type: ignore[arg-type]


def test_a_subject_cannot_be_a_clear_id_number() -> None:
    with pytest.raises(ValueError, match="enterprise:<USCC> or person:<keyed hash>"):
        SubjectDisclosure(person_id(1), {"name": "allow"})


@pytest.mark.parametrize("named", [(), (2,), (3, 1, 2), (2, 1, 2, 2)])
def test_one_group_of_subjects_is_stored_as_the_general_grouping_stores_it(named: tuple[int, ...]) -> None:
    pseudonyms = Pseudonyms(KEY)
    group = SubjectGroup({"status": "allow", "name": "mask"}, tuple(pseudonyms.enterprise(enterprise_uscc(n))
                                                                   for n in named))
    one = Disclosure(request_id="req-4", client_id="market-a1", department="market", purpose="许可审批",
                     operation_hash=operation_hash(DOCUMENT), time="2026-11-26T08:00:00.000000Z", groups=(group,))
    assert one.stored_subjects() == grouped([(group.fields, group.subjects)])
    assert [list(g["fields"]) for g in one.stored_subjects()] == [["status", "name"]] * (1 if named else 0)


def test_a_records_time_is_utc_with_microseconds_and_a_z() -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    written = now_iso()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", written), written
    assert dt.datetime.strptime(written, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC) >= before


def test_a_remembered_persons_reference_is_the_keyed_hash_a_fresh_one_makes() -> None:
    remembering = Pseudonyms(KEY)
    first = remembering.person(person_id(7))
    assert remembering.person(person_id(7)) == first == Pseudonyms(KEY).person(person_id(7))
    assert first != Pseudonyms(bytes(range(1, 33))).person(person_id(7))  # keyed: another key, another hash
    assert remembering.person(person_id(8)) != first


def test_a_malformed_id_number_is_refused_every_time_and_never_remembered() -> None:
    pseudonyms = Pseudonyms(KEY)
    bad = person_id(7)[:-1] + ("0" if person_id(7)[-1] != "0" else "1")  # its check character broken
    for _ in range(2):
        with pytest.raises(InvalidIdentifier):
            pseudonyms.person(bad)
    assert bad not in pseudonyms._persons


def test_persons_remembered_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from hub.audit import records

    monkeypatch.setattr(records, "PERSONS_KEPT", 3)
    pseudonyms = Pseudonyms(KEY)
    references = [pseudonyms.person(person_id(n)) for n in range(10)]
    assert len(pseudonyms._persons) <= 3
    assert [pseudonyms.person(person_id(n)) for n in range(10)] == references  # forgotten ones made again alike


@pytest.mark.parametrize("number", ["1101011990030712３3", "11010119900307²²²X"])
def test_a_source_id_number_with_digits_that_are_not_ascii_is_no_subject_rather_than_a_failure(number: str) -> None:
    """A department's record naming a person by such a number: the disclosure's subjects skip what
    ``InvalidIdentifier`` refuses; a superscript's ``ValueError`` or a full-width digit's
    ``UnicodeEncodeError`` (the number validated, then hashed as ASCII) would fail the record."""
    with pytest.raises(InvalidIdentifier):
        Pseudonyms(KEY).person(number)
