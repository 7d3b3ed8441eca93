"""Every answered operation leaves one disclosure record before the answer; no record, no data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from hub.audit import verify, who_accessed
from tests.graph.conftest import DepartmentServices, HubClient, hub_settings, open_hub
from tests.policy.test_applied import CALLERS, ENTERPRISE, LEGAL_REP, PERSON, ask, caller, caller_named_in_header

QUERY = """query Registration($u: String!) {
  enterprise(uscc: $u) { uscc name registeredCapital legalRepresentative { idNumber name } }
}"""


@pytest.fixture
async def hub(demo_data_dir: Path, services: DepartmentServices) -> AsyncIterator[HubClient]:
    settings = hub_settings(demo_data_dir, services.ecology.url, services.security.url)
    async with open_hub(settings, authenticate=caller_named_in_header) as client:
        CALLERS["case-window"] = caller("case-window", {ENTERPRISE: ["licensing"], PERSON: ["licensing"],
                                                        LEGAL_REP: ["licensing"]})
        yield client


@pytest.fixture(scope="module")
def enterprise(demo_db: Any) -> dict[str, Any]:
    return demo_db("market", "SELECT * FROM enterprises WHERE legal_rep_id IS NOT NULL ORDER BY uscc DESC LIMIT 1")[0]


async def test_the_record_names_client_purpose_case_operation_and_each_subjects_fields_with_decisions(
    hub: HubClient, enterprise: dict[str, Any]
) -> None:
    response = await hub.http.post(
        "/graphql", json={"query": QUERY, "variables": {"u": enterprise["uscc"]}},
        headers={"x-test-caller": "case-window", "x-hub-purpose": "licensing", "x-request-id": "req-audit-0001"},
    )
    assert response.status_code == 200 and "errors" not in response.json()
    store = hub.hub.disclosures.store
    [access] = [a for a in await who_accessed(store, enterprise["uscc"]) if a.client_id == "case-window"]
    assert (access.purpose, access.operation_name, access.department) == ("licensing", "Registration", "market")
    assert access.fields == {"Enterprise.uscc": "allow", "Enterprise.name": "allow",
                             "Enterprise.registered_capital": "mask", "Enterprise.legal_representative": "allow"}
    [person] = [a for a in await who_accessed(store, enterprise["legal_rep_id"]) if a.client_id == "case-window"]
    assert person.fields == {"Person.id_number": "mask", "Person.name": "mask"}
    async with store.engine.connect() as conn:
        row = (await conn.execute(text("SELECT * FROM audit_records WHERE request_id = 'req-audit-0001'"))).one()
        everything = " ".join(str(v) for r in (await conn.execute(text("SELECT * FROM audit_subjects"))).all()
                              for v in r) + " ".join(str(v) for v in row)
    assert enterprise["legal_rep_id"] not in everything  # a person's ID number never in clear
    assert (await verify(store)).findings == []


async def test_a_denied_field_is_recorded_as_denied(hub: HubClient, enterprise: dict[str, Any]) -> None:
    await ask(hub, "people", "query Rep($u: String!) { enterprise(uscc: $u) { name legalRepresentative { idType } } }",
              u=enterprise["uscc"])
    store = hub.hub.disclosures.store
    [access] = [a for a in await who_accessed(store, enterprise["uscc"]) if a.client_id == "people"]
    assert access.fields == {"Enterprise.name": "allow", "Enterprise.legal_representative": "deny"}


async def test_when_the_record_cannot_be_written_the_answer_carries_no_data(
    hub: HubClient, enterprise: dict[str, Any]
) -> None:
    await ask(hub, "case-window", QUERY, u=enterprise["uscc"])  # the audit store is open and working
    store = hub.hub.disclosures.store
    async with store.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE audit_records RENAME TO audit_records_away"))
    try:
        response = await hub.http.post(
            "/graphql", json={"query": QUERY, "variables": {"u": enterprise["uscc"]}},
            headers={"x-test-caller": "case-window", "x-hub-purpose": "licensing"},
        )
    finally:
        async with store.engine.begin() as conn:
            await conn.execute(text("ALTER TABLE audit_records_away RENAME TO audit_records"))
    assert response.status_code == 503
    body = response.json()
    assert "data" not in body
    assert enterprise["name"] not in response.text
    [error] = body["errors"]
    assert error["extensions"]["code"] == "AUDIT_UNAVAILABLE"


async def test_every_answered_request_appends_exactly_one_record(hub: HubClient, enterprise: dict[str, Any]) -> None:
    store = hub.hub.disclosures.store

    async def count() -> int:
        async with store.engine.connect() as conn:
            return int((await conn.execute(text("SELECT count(*) FROM audit_records"))).scalar_one())

    before = await count()
    for _ in range(3):
        await ask(hub, "case-window", QUERY, u=enterprise["uscc"])
    await ask(hub, "case-window", "{ enterprise(uscc: 1) { nothingHere } }")  # refused before execution
    assert await count() == before + 3


async def test_requests_whose_records_share_a_refused_group_all_answer_without_data(
    hub: HubClient, enterprise: dict[str, Any]
) -> None:
    """Concurrent requests' records are written in groups; the database refusing one record (a
    trigger here, as a constraint or a full disk would) rolls back its whole group, and every request
    of that group answers 503 with no data, while every answer that carries data has its record."""
    import asyncio

    from tests.audit.test_groups import POISON, SQLITE_TRIGGER

    await ask(hub, "case-window", QUERY, u=enterprise["uscc"])  # the audit store is open and working
    store = hub.hub.disclosures.store
    async with store.engine.begin() as conn:
        await conn.execute(text(SQLITE_TRIGGER))
    request_ids = [f"grouped-{n:02d}" for n in range(16)]
    request_ids[8] = POISON
    try:
        answers = await asyncio.gather(*(
            hub.http.post("/graphql", json={"query": QUERY, "variables": {"u": enterprise["uscc"]}},
                          headers={"x-test-caller": "case-window", "x-hub-purpose": "licensing", "x-request-id": rid})
            for rid in request_ids
        ))
    finally:
        async with store.engine.begin() as conn:
            await conn.execute(text("DROP TRIGGER refuse_poison"))
    async with store.engine.connect() as conn:
        recorded = set((await conn.execute(text("SELECT request_id FROM audit_records"))).scalars())
    refused = {rid for rid, answer in zip(request_ids, answers, strict=True) if answer.status_code == 503}
    assert POISON in refused
    for rid, answer in zip(request_ids, answers, strict=True):
        if rid in refused:
            assert "data" not in answer.json() and enterprise["name"] not in answer.text
            assert answer.json()["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"
            assert rid not in recorded
        else:
            assert answer.status_code == 200 and answer.json()["data"]["enterprise"]["name"] == enterprise["name"]
            assert rid in recorded
    assert (await verify(store)).intact


async def test_when_the_audit_logs_flush_fails_every_request_answers_without_data_until_the_hub_restarts(
    hub: HubClient, enterprise: dict[str, Any], monkeypatch: pytest.MonkeyPatch, demo_data_dir: Path,
    services: DepartmentServices,
) -> None:
    """On an SQLite file the writer flushes the log itself after each commit; a flush that fails
    fails closed every request whose record it covered and every later one, though the disk works
    again, until the hub is restarted over the same log."""
    import asyncio
    import errno
    import os

    from hub.audit import sqlite_writer

    await ask(hub, "case-window", QUERY, u=enterprise["uscc"])  # the audit store is open and working
    assert hub.hub.disclosures.store._file_writer is not None  # the hub's audit log is an SQLite file
    real = os.fdatasync
    failing = True
    calls = 0

    def fdatasync(fd: int) -> None:
        nonlocal calls
        calls += 1
        if failing:
            raise OSError(errno.EIO, "Input/output error")
        real(fd)

    monkeypatch.setattr(sqlite_writer.os, "fdatasync", fdatasync)
    answers = await asyncio.gather(*(
        hub.http.post("/graphql", json={"query": QUERY, "variables": {"u": enterprise["uscc"]}},
                      headers={"x-test-caller": "case-window", "x-hub-purpose": "licensing"})
        for _ in range(8)
    ))
    assert calls >= 1
    for answer in answers:
        assert answer.status_code == 503
        assert "data" not in answer.json() and enterprise["name"] not in answer.text
        assert answer.json()["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"
    failing = False
    request = {"json": {"query": QUERY, "variables": {"u": enterprise["uscc"]}},
               "headers": {"x-test-caller": "case-window", "x-hub-purpose": "licensing"}}
    answer = await hub.http.post("/graphql", **request)
    assert answer.status_code == 503 and answer.json()["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"
    assert "data" not in answer.json() and calls == 1  # nothing more committed, so nothing more to flush
    settings = hub_settings(demo_data_dir, services.ecology.url, services.security.url)
    async with open_hub(settings, authenticate=caller_named_in_header) as restarted:  # the same log
        answer = await restarted.http.post("/graphql", **request)
        assert answer.status_code == 200 and answer.json()["data"]["enterprise"]["name"] == enterprise["name"]
