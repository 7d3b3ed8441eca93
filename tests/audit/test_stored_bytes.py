"""The bytes a record is stored and chained with, pinned: a faster record path must write the same.

Two disclosures written in one group (one a gateway's), with field sets given out of order, two
groups of subjects and a subject shown under two field sets: the canonical bytes, the hashes and
every stored column are the ones the record path wrote before it was made cheaper. Enterprises
only, so nothing depends on the test's random key but the MACs, which are checked against it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text

from hub.audit import AuditStore, verify
from hub.audit.records import Disclosure, Pseudonyms, SubjectGroup, canonical
from hub.audit.sqlite_writer import RECORD_COLUMNS
from tests.audit.conftest import enterprise_uscc

TIME = "2026-12-07T21:00:00.000000Z"
OPERATION = "5" * 64


def plain(pseudonyms: Pseudonyms) -> Disclosure:
    one, two, three = (pseudonyms.enterprise(enterprise_uscc(n)) for n in (1, 2, 3))
    return Disclosure(
        request_id="req-pinned-1", client_id="market-a1", department="market", purpose="许可审批",
        operation_hash=OPERATION, time=TIME, end_user="officer-1", case_number="CASE-2026-00001",
        operation_name="Enterprise",
        groups=(
            SubjectGroup({"Enterprise.status": "allow", "Enterprise.name": "allow", "Enterprise.capital": "mask"},
                         (three, one)),
            SubjectGroup({"FoodBusinessLicence.number": "allow", "FoodBusinessLicence.expires": "deny"}, (two, one)),
        ),
    )  # fmt: skip


def declared(pseudonyms: Pseudonyms) -> Disclosure:
    return Disclosure(
        request_id="req-pinned-2", client_id="province-gateway", department="province", purpose="",
        operation_hash=OPERATION, time=TIME, gateway="province-gateway", origin_client="market-a1",
        origin_proven=False,
        groups=(SubjectGroup({"Enterprise.name": "allow"}, (pseudonyms.enterprise(enterprise_uscc(4)),)),),
    )  # fmt: skip


PLAIN_CANONICAL = (
    b'{"case_number":"CASE-2026-00001","client_id":"market-a1","department":"market","end_user":"officer-1",'
    b'"layout":2,"operation_hash":"' + OPERATION.encode() + b'","operation_name":"Enterprise",'
    b'"purpose":"' + "许可审批".encode() + b'","request_id":"req-pinned-1","subjects":['
    b'{"fields":{"Enterprise.capital":"mask","Enterprise.name":"allow","Enterprise.status":"allow",'
    b'"FoodBusinessLicence.expires":"deny","FoodBusinessLicence.number":"allow"},'
    b'"subjects":["enterprise:91330100MA0000015W"]},'
    b'{"fields":{"Enterprise.capital":"mask","Enterprise.name":"allow","Enterprise.status":"allow"},'
    b'"subjects":["enterprise:91330100MA0000031J"]},'
    b'{"fields":{"FoodBusinessLicence.expires":"deny","FoodBusinessLicence.number":"allow"},'
    b'"subjects":["enterprise:91330100MA0000023P"]}],"time":"2026-12-07T21:00:00.000000Z"}'
)
DECLARED_CANONICAL = (
    b'{"case_number":null,"client_id":"province-gateway","department":"province","end_user":null,'
    b'"gateway":"province-gateway","layout":2,"operation_hash":"' + OPERATION.encode() + b'",'
    b'"operation_name":null,"origin_client":"market-a1","origin_proven":false,"purpose":"",'
    b'"request_id":"req-pinned-2","subjects":[{"fields":{"Enterprise.name":"allow"},'
    b'"subjects":["enterprise:91330100MA000004XA"]}],"time":"2026-12-07T21:00:00.000000Z"}'
)
PLAIN_HASH = "5b47327bb4057ee5e9f512d05b96823cd2ca7aec9d00807538c94d57d18cb030"
DECLARED_HASH = "29059ac16929aa58eecf82969f760db630c41225935dc3effb63753d04b2cd21"
PLAIN_SUBJECTS = (
    '[{"fields":{"Enterprise.status":"allow","Enterprise.name":"allow","Enterprise.capital":"mask",'
    '"FoodBusinessLicence.number":"allow","FoodBusinessLicence.expires":"deny"},'
    '"subjects":["enterprise:91330100MA0000015W"]},'
    '{"fields":{"Enterprise.status":"allow","Enterprise.name":"allow","Enterprise.capital":"mask"},'
    '"subjects":["enterprise:91330100MA0000031J"]},'
    '{"fields":{"FoodBusinessLicence.number":"allow","FoodBusinessLicence.expires":"deny"},'
    '"subjects":["enterprise:91330100MA0000023P"]}]'
)  # as the SQLite file's column holds it: fields in the order shown, not sorted
DECLARED_SUBJECTS = '[{"fields":{"Enterprise.name":"allow"},"subjects":["enterprise:91330100MA000004XA"]}]'


def test_the_canonical_bytes_of_a_record_are_the_ones_pinned() -> None:
    pseudonyms = Pseudonyms(bytes(32))  # an enterprise's reference does not depend on the key
    assert canonical(plain(pseudonyms)) == PLAIN_CANONICAL
    assert canonical(declared(pseudonyms)) == DECLARED_CANONICAL


async def test_a_group_is_stored_and_chained_with_the_bytes_pinned(store: AuditStore) -> None:
    first, second = plain(store.pseudonyms), declared(store.pseudonyms)
    seqs = await asyncio.gather(store.append(first), store.append(second))
    assert seqs == [1, 2] and store.groups.groups == 1
    async with store.engine.connect() as conn:
        rows = (await conn.execute(text(f"SELECT {', '.join(RECORD_COLUMNS)} FROM audit_records ORDER BY seq"))).all()
    stored = [dict(zip(RECORD_COLUMNS, row, strict=True)) for row in rows]
    expected: list[dict[str, Any]] = [
        {"seq": 1, "time": TIME, "request_id": "req-pinned-1", "client_id": "market-a1", "department": "market",
         "end_user": "officer-1", "purpose": "许可审批", "case_number": "CASE-2026-00001",
         "operation_name": "Enterprise", "operation_hash": OPERATION, "layout": 2, "prev_hash": "0" * 64,
         "hash": PLAIN_HASH, "gateway": None, "origin_client": None, "origin_proven": None},
        {"seq": 2, "time": TIME, "request_id": "req-pinned-2", "client_id": "province-gateway",
         "department": "province", "end_user": None, "purpose": "", "case_number": None, "operation_name": None,
         "operation_hash": OPERATION, "layout": 2, "prev_hash": PLAIN_HASH, "hash": DECLARED_HASH,
         "gateway": "province-gateway", "origin_client": "market-a1", "origin_proven": False},
    ]  # fmt: skip
    for row, wanted, subjects in zip(stored, expected, (PLAIN_SUBJECTS, DECLARED_SUBJECTS), strict=True):
        assert row["mac"] == store.keys.row_mac(row["hash"])
        if row["origin_proven"] is not None:
            row["origin_proven"] = bool(row["origin_proven"])
        assert {k: v for k, v in row.items() if k not in ("mac", "subjects")} == wanted
        if store.sqlite:  # PostgreSQL's JSON column is the driver's text of the same value
            assert row["subjects"] == subjects
    report = await verify(store)
    assert report.intact and report.records == 2, report.findings
