"""Tampering made directly in the database with SQL, as someone with write access would; the
verification report names each kind at its seq. Ten records, sealed at 4 and 8; on SQLite their
subject index in blocks of four seqs (1-3, 4-7, 8-10). An intruder who moves or removes records and
rebuilds the index to match (``reindex``) leaves the index consistent: the chain finds them.
"""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import text

from hub.audit import GENESIS, AuditStore, Report, canonical, link, verify
from hub.audit.records import Disclosure
from hub.audit.records import subject_key
from tests.audit.conftest import disclosure, enterprise_uscc, fill, reindex


async def tamper(store: AuditStore, *statements: str, **params: object) -> None:
    """Run SQL as an intruder would: in one transaction, foreign keys out of the way. On PostgreSQL
    the subject index is the records' own ``subject_keys`` (it moves with them): statements on
    SQLite's ``audit_subjects`` table are skipped there."""
    async with store.engine.connect() as conn:
        if store.sqlite:
            await conn.execute(text("PRAGMA foreign_keys=OFF"))
        else:
            await conn.execute(text("SET session_replication_role = replica"))
        for statement in statements:
            if "audit_subjects" in statement and not store.sqlite:
                continue
            await conn.execute(text(statement), params)
        await conn.commit()


async def row(store: AuditStore, seq: int) -> dict[str, object]:
    async with store.engine.connect() as conn:
        result = await conn.execute(text("SELECT * FROM audit_records WHERE seq = :seq"), {"seq": seq})
        return dict(result.mappings().one())


@pytest.fixture
async def ten(store: AuditStore, blocks_of_four: int) -> AuditStore:
    await fill(store, 10)
    assert (await verify(store)).intact
    return store


def found(report: Report) -> set[tuple[int, str]]:
    return report.kinds()


async def test_an_untouched_log_verifies(ten: AuditStore) -> None:
    report = await verify(ten)
    assert report.intact and report.records == 10 and report.seals == 2


async def test_an_updated_field_is_reported_as_edited(ten: AuditStore) -> None:
    await tamper(ten, "UPDATE audit_records SET purpose = 'curiosity' WHERE seq = 5")
    assert found(await verify(ten)) == {(5, "edited")}


async def test_an_emptied_subject_list_is_reported_as_edited_and_in_the_index(ten: AuditStore) -> None:
    await tamper(ten, "UPDATE audit_records SET subjects = '[]' WHERE seq = 6")
    # SQLite: enterprise 1 was named in block 4-7 by record 6 alone: its row there is now no record's,
    # reported at the block's first record.
    assert found(await verify(ten)) == {(6, "edited"), (4 if ten.sqlite else 6, "index")}


async def test_a_deleted_row_is_reported_as_deleted(ten: AuditStore) -> None:
    await tamper(ten, "DELETE FROM audit_records WHERE seq = 5")
    await reindex(ten)
    assert found(await verify(ten)) == {(5, "deleted")}


async def test_a_deleted_row_with_the_rest_renumbered_is_still_reported(ten: AuditStore) -> None:
    await tamper(
        ten,
        "DELETE FROM audit_records WHERE seq = 5",
        "UPDATE audit_records SET seq = -seq WHERE seq > 5",
        "UPDATE audit_records SET seq = -seq - 1 WHERE seq < 0",
    )
    await reindex(ten)
    # The chain misses a link at 5; the head still vouches for 10; the seal at 8 signed another record.
    assert found(await verify(ten)) == {(5, "deleted"), (8, "seal"), (10, "truncated")}


async def test_a_head_moved_back_without_the_hubs_key_is_reported(ten: AuditStore) -> None:
    await tamper(
        ten,
        "DELETE FROM audit_records WHERE seq = 10",
        "UPDATE audit_head SET seq = 9",
    )
    await reindex(ten)
    assert found(await verify(ten)) == {(9, "head")}


async def test_a_forged_row_with_a_correctly_recomputed_hash_is_reported_as_inserted(ten: AuditStore) -> None:
    last = await row(ten, 10)
    forged = disclosure(ten, 11, client="security-x9", purpose="无")
    forged_hash = link(str(last["hash"]), canonical(forged))
    await tamper(
        ten,
        "INSERT INTO audit_records (seq, time, request_id, client_id, department, end_user, purpose, "
        "case_number, operation_name, operation_hash, subjects, prev_hash, hash, mac) VALUES (11, :time, "
        ":request_id, :client_id, :department, :end_user, :purpose, :case_number, :operation_name, "
        ":operation_hash, :subjects, :prev, :hash, :mac)",
        **_values(forged),
        prev=last["hash"],
        hash=forged_hash,
        mac=secrets.token_hex(32),
    )
    # PostgreSQL: the row's subject_keys are empty, so who-accessed would not show it. SQLite: it lies
    # past the batch index's mark, where who-accessed reads the records themselves, so it would.
    expected = {(11, "inserted")} if ten.sqlite else {(11, "inserted"), (11, "index")}
    assert found(await verify(ten)) == expected


async def test_an_edit_with_every_later_hash_recomputed_is_caught_by_macs_and_seal(ten: AuditStore) -> None:
    prev = str((await row(ten, 4))["hash"])
    for seq in range(5, 11):
        record = Disclosure.from_dict(_record(await row(ten, seq)))
        if seq == 5:
            record = Disclosure.from_dict({**record.as_dict(), "case_number": None})
        new_hash = link(prev, canonical(record))
        await tamper(
            ten,
            "UPDATE audit_records SET case_number = :case, prev_hash = :prev, hash = :hash WHERE seq = :seq",
            case=record.case_number, prev=prev, hash=new_hash, seq=seq,
        )  # fmt: skip
        prev = new_hash
    report = found(await verify(ten))
    assert {(seq, "inserted") for seq in range(5, 11)} <= report
    assert (8, "seal") in report  # the seal at 8 signed the original hash


SWAP_3_AND_4 = (  # records 3 and 4 change places (and blocks: ``reindex`` moves their index rows)
    "UPDATE audit_records SET seq = -3 WHERE seq = 3",
    "UPDATE audit_records SET seq = 3 WHERE seq = 4",
    "UPDATE audit_records SET seq = 4 WHERE seq = -3",
)


async def test_two_rows_with_swapped_seqs_are_reported_as_reordered(ten: AuditStore) -> None:
    await tamper(ten, *SWAP_3_AND_4)
    await reindex(ten)
    # The seal at 4 signed the hash of the record that stood there.
    assert found(await verify(ten)) == {(3, "reordered"), (4, "reordered"), (4, "seal")}


async def test_a_tail_cut_after_the_last_seal_is_reported_as_truncated(ten: AuditStore) -> None:
    await tamper(ten, "DELETE FROM audit_records WHERE seq > 8")
    await reindex(ten)
    assert found(await verify(ten)) == {(9, "truncated"), (10, "truncated")}


async def test_a_tail_cut_with_the_head_rolled_back_is_still_reported(ten: AuditStore) -> None:
    eight = await row(ten, 8)
    await tamper(
        ten,
        "DELETE FROM audit_records WHERE seq > 8",
        "UPDATE audit_head SET seq = 8, hash = :hash, mac = :mac",
        hash=eight["hash"], mac=eight["mac"],
    )  # fmt: skip
    await reindex(ten)
    assert found(await verify(ten)) == {(8, "head")}


async def test_a_head_reset_to_its_state_before_any_append_is_reported(ten: AuditStore) -> None:
    await tamper(ten, "UPDATE audit_head SET seq = 0, hash = :genesis, mac = NULL", genesis=GENESIS)
    assert found(await verify(ten)) == {(0, "head")}


async def test_a_tail_cut_back_past_a_seal_is_reported_by_the_seal(ten: AuditStore) -> None:
    await tamper(ten, "DELETE FROM audit_records WHERE seq > 6")
    await reindex(ten)
    report = found(await verify(ten))
    assert {(8, "truncated"), (7, "truncated"), (10, "truncated")} <= report


async def test_a_seal_signed_with_a_key_of_the_intruders_own_is_refused(ten: AuditStore) -> None:
    from joserfc.jwk import ECKey

    from hub.audit.seals import SEAL_TYP
    from hub.oauth import jws

    key = ECKey.generate_key("P-256")
    last = await row(ten, 10)
    claims = {"seq": 10, "hash": last["hash"], "sealed_at": "2026-11-26T00:00:00.000000Z"}
    signature = jws.sign({"typ": SEAL_TYP, "kid": "intruder"}, claims, key)
    await tamper(
        ten,
        "INSERT INTO audit_seals (seq, hash, sealed_at, kid, signature) "
        "VALUES (10, :hash, :at, 'intruder', :sig)",
        hash=last["hash"], at=claims["sealed_at"], sig=signature,
    )  # fmt: skip
    assert found(await verify(ten)) == {(10, "seal")}


async def test_a_deleted_subject_index_row_is_reported(ten: AuditStore) -> None:
    if ten.sqlite:  # enterprise 2, named in block 1-3 by record 2 (the block's rows are its records' keys)
        key = subject_key(ten.pseudonyms.enterprise(enterprise_uscc(2)))
        await tamper(ten, "DELETE FROM audit_subjects WHERE block = 0 AND subject_key = :key", key=key)
    else:
        await tamper(ten, "UPDATE audit_records SET subject_keys = subject_keys[2:] WHERE seq = 2")
    assert found(await verify(ten)) == {(2, "index")}
    assert found(await verify(ten, since_seal=4)) == set()  # before the seal: trusted


async def test_a_subject_index_entry_added_to_a_record_is_reported(ten: AuditStore) -> None:
    # SQLite: a key no record names, in block 4-7: reported at the block's first record.
    if ten.sqlite:
        await tamper(ten, "INSERT INTO audit_subjects (subject_key, block) VALUES (12345, 1)")
    else:
        await tamper(ten, "UPDATE audit_records SET subject_keys = subject_keys || 12345::bigint WHERE seq = 4")
    assert found(await verify(ten)) == {(4, "index")}


async def test_a_records_whole_subject_index_removed_is_reported(ten: AuditStore) -> None:
    if ten.sqlite:  # every row of block 4-7: each record naming a subject first there is reported
        await tamper(ten, "DELETE FROM audit_subjects WHERE block = 1")
        assert found(await verify(ten)) == {(4, "index"), (5, "index"), (6, "index"), (7, "index")}
    else:
        await tamper(ten, "UPDATE audit_records SET subject_keys = NULL WHERE seq = 7")
        assert found(await verify(ten)) == {(7, "index")}


def _record(values: dict[str, object]) -> dict[str, object]:
    names = ("request_id", "time", "client_id", "department", "end_user", "purpose", "case_number",
             "operation_name", "operation_hash", "subjects", "layout")  # fmt: skip
    subjects = values["subjects"]
    if isinstance(subjects, str):
        import json

        subjects = json.loads(subjects)
    return {name: (subjects if name == "subjects" else values[name]) for name in names}


def _values(item: Disclosure) -> dict[str, object]:
    import json

    values = item.as_dict()
    return {**values, "subjects": json.dumps(values["subjects"], ensure_ascii=False)}


async def test_an_incremental_check_from_a_seal_checks_only_the_records_after_it(ten: AuditStore) -> None:
    report = await verify(ten, since_seal=8)
    assert report.intact and report.records == 2 and report.last_seq == 10


async def test_an_incremental_check_finds_an_edit_after_its_seal(ten: AuditStore) -> None:
    await tamper(ten, "UPDATE audit_records SET purpose = 'curiosity' WHERE seq = 9")
    assert found(await verify(ten, since_seal=8)) == {(9, "edited")}
    assert found(await verify(ten, since_seal=4)) == {(9, "edited")}


async def test_an_incremental_check_trusts_what_came_before_its_seal_and_a_full_one_does_not(ten: AuditStore) -> None:
    await tamper(ten, "UPDATE audit_records SET purpose = 'curiosity' WHERE seq = 5")
    assert (await verify(ten, since_seal=8)).intact
    assert found(await verify(ten)) == {(5, "edited")}


async def test_an_incremental_check_refuses_to_start_from_a_record_that_is_not_the_sealed_one(ten: AuditStore) -> None:
    await tamper(ten, "UPDATE audit_records SET hash = :hash WHERE seq = 8", hash=secrets.token_hex(32))
    report = await verify(ten, since_seal=8)
    assert found(report) == {(8, "seal")} and report.records == 0


async def test_an_incremental_check_must_start_at_a_sealed_seq(ten: AuditStore) -> None:
    with pytest.raises(ValueError, match="no seal at seq 7"):
        await verify(ten, since_seal=7)


async def test_findings_across_the_checks_windows_are_the_same(ten: AuditStore, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    verifying = importlib.import_module("hub.audit.verify")
    monkeypatch.setattr(verifying, "WINDOW", 3)  # records read three at a time: 1-3, 4-6, 7-9, 10
    assert (await verify(ten)).intact
    await tamper(
        ten,
        *SWAP_3_AND_4,
        "DELETE FROM audit_records WHERE seq = 7",
        "UPDATE audit_records SET purpose = 'curiosity' WHERE seq = 9",
    )
    await reindex(ten)
    assert found(await verify(ten)) == {(3, "reordered"), (4, "reordered"), (4, "seal"), (7, "deleted"), (9, "edited")}


BOUNDARY_TAMPERING = (
    # 3 and 4 swapped, 6 deleted, 7 edited, 10 copied past the end of the log as 11.
    *SWAP_3_AND_4,
    "DELETE FROM audit_records WHERE seq = 6",
    "UPDATE audit_records SET purpose = 'curiosity' WHERE seq = 7",
)


@pytest.mark.parametrize("window", [1, 2, 3, 4, 5, 6, 10])
async def test_findings_are_the_same_wherever_the_windows_end(
    ten: AuditStore, monkeypatch: pytest.MonkeyPatch, window: int
) -> None:
    # Each window is read while the one before it is checked: a tampering on either side of any
    # boundary (every record its own window with 1) is found as in one window.
    import importlib

    verifying = importlib.import_module("hub.audit.verify")
    monkeypatch.setattr(verifying, "WINDOW", window)
    listed = ", ".join(COPIED)
    await tamper(
        ten, *BOUNDARY_TAMPERING,
        f"INSERT INTO audit_records (seq, {listed}) SELECT 11, {listed} FROM audit_records WHERE seq = 10",
    )  # fmt: skip
    await reindex(ten)
    expected = {(3, "reordered"), (4, "reordered"), (4, "seal"), (6, "deleted"), (7, "edited"), (11, "reordered")}
    assert found(await verify(ten)) == expected
    report = await verify(ten, since_seal=8)
    assert found(report) == {(11, "reordered")} and report.records == 3


@pytest.mark.parametrize("column", ["mac", "hash", "prev_hash"])
async def test_a_hash_or_mac_edited_into_other_text_is_reported(ten: AuditStore, column: str) -> None:
    # Not hex, nor even ASCII: the check reports the row (its MAC or its content fails), never stops on it.
    await tamper(ten, f"UPDATE audit_records SET {column} = :value WHERE seq = 6", value="é" * 64)
    report = found(await verify(ten))
    if column == "prev_hash":  # its own MAC holds: the content no longer hashes, the chain loses 5 -> 6
        assert report == {(6, "edited"), (6, "deleted")}
    else:
        assert report == {(6, "inserted")}


@pytest.mark.parametrize("column", ["mac", "hash"])
async def test_a_mac_or_hash_in_other_text_does_not_stop_placing_a_moved_record(ten: AuditStore, column: str) -> None:
    # The copy of 10 appended as 11 is placed by walking every authentic row, 6 among those read.
    listed = ", ".join(COPIED)
    await tamper(
        ten, f"UPDATE audit_records SET {column} = :value WHERE seq = 6",
        f"INSERT INTO audit_records (seq, {listed}) SELECT 11, {listed} FROM audit_records WHERE seq = 10",
        value="é" * 64,
    )  # fmt: skip
    assert found(await verify(ten)) == {(6, "inserted"), (11, "reordered")}


async def test_a_sealed_records_mac_in_other_text_stops_an_incremental_check(ten: AuditStore) -> None:
    await tamper(ten, "UPDATE audit_records SET mac = :value WHERE seq = 8", value="é" * 64)
    assert found(await verify(ten, since_seal=8)) == {(8, "seal")}


@pytest.mark.parametrize(
    "keys", ["ARRAY[NULL]::bigint[]", "subject_keys || ARRAY[NULL]::bigint[]", "ARRAY[subject_keys, subject_keys]"]
)
async def test_subject_keys_that_are_not_a_list_of_keys_are_reported(ten: AuditStore, keys: str) -> None:
    if ten.sqlite:
        pytest.skip("PostgreSQL keeps a record's subject keys in its row")
    await tamper(ten, f"UPDATE audit_records SET subject_keys = {keys} WHERE seq = 6")
    assert found(await verify(ten)) == {(6, "index")}


async def test_a_record_overwritten_with_a_copy_of_another_is_reported(ten: AuditStore) -> None:
    # No unique index on the hash (migration 0018) stops the copy: verify must find it on its own.
    columns = ", ".join(f"{c} = (SELECT {c} FROM audit_records WHERE seq = 3)" for c in COPIED)
    await tamper(ten, f"UPDATE audit_records SET {columns} WHERE seq = 6")
    # Record 3 again at 6: it stands where the chain puts record 3, and record 6 is gone from the chain.
    # SQLite's block 4-7 lacks enterprise 3, which the copy at 6 names, and still lists enterprise 1,
    # which only record 6 named (at the block's first record); PostgreSQL's keys moved with the row.
    expected = {(6, "reordered"), (7, "deleted")} | ({(6, "index"), (4, "index")} if ten.sqlite else set())
    assert found(await verify(ten)) == expected


async def test_a_copy_of_the_last_record_appended_past_the_head_is_reported(ten: AuditStore) -> None:
    listed = ", ".join(COPIED)
    await tamper(ten, f"INSERT INTO audit_records (seq, {listed}) SELECT 11, {listed} FROM audit_records WHERE seq = 10")
    assert found(await verify(ten)) == {(11, "reordered")}  # past the head, and where the chain puts 10


COPIED = ("time", "request_id", "client_id", "department", "end_user", "purpose", "case_number", "operation_name",
          "operation_hash", "subjects", "layout", "prev_hash", "hash", "mac", "subject_keys")


@pytest.mark.parametrize("seq", [0, -1])
async def test_a_copy_placed_before_the_first_record_is_reported(ten: AuditStore, seq: int) -> None:
    # A row at seq 0 or below is before the genesis: who-accessed would list it, so verify must see it.
    listed = ", ".join(COPIED)
    await tamper(ten, f"INSERT INTO audit_records (seq, {listed}) SELECT {seq}, {listed} FROM audit_records WHERE seq = 5")
    report = await verify(ten)
    assert not report.intact
    assert (seq, "reordered") in found(report)


async def test_a_forged_row_before_the_first_record_is_reported_as_inserted(ten: AuditStore) -> None:
    listed = ", ".join(c for c in COPIED if c != "mac")
    await tamper(ten, f"INSERT INTO audit_records (seq, mac, {listed}) "
                      f"SELECT 0, '{'0' * 64}', {listed} FROM audit_records WHERE seq = 5")
    assert found(await verify(ten)) == {(0, "inserted")}


@pytest.mark.parametrize(
    "subjects",
    [
        '[{"subjects": [["enterprise:x"]], "fields": {"name": "allow"}}]',
        '[{"subjects": [{"a": 1}], "fields": {"name": "allow"}}]',
        '[{"subjects": [1], "fields": {"name": "allow"}}]',
        '[{"subject": ["enterprise:x"], "fields": {"name": "allow"}}]',
    ],
)
async def test_subjects_edited_to_name_something_other_than_text_are_reported(ten: AuditStore, subjects: str) -> None:
    # A reference that is a list or an object: the check reports the row, never stops on it.
    await tamper(ten, "UPDATE audit_records SET subjects = CAST(:subjects AS " + ("TEXT" if ten.sqlite else "JSONB")
                 + ") WHERE seq = 6", subjects=subjects)
    # SQLite: block 4-7 lists enterprise 1 and person 0 for record 6 alone (at the block's first record).
    assert found(await verify(ten)) == {(6, "edited"), (4 if ten.sqlite else 6, "index")}


async def test_a_record_moved_far_past_the_log_is_reported_in_bounded_work(ten: AuditStore) -> None:
    # A seq edited to a trillion: the check reports the gap as one run of missing seqs, never one
    # finding (or one index slot) per seq it skips.
    far = 10**12
    await tamper(ten, f"UPDATE audit_records SET seq = {far} WHERE seq = 10")
    await reindex(ten)
    report = await verify(ten)
    assert found(report) == {(10, "deleted")}
    assert report.last_seq == far
    (finding,) = report.findings
    assert str(far - 1) in finding.detail
