"""Review: look-ups and filters must not undo a mask (a masked value is no key to guess against).

Each test here states the behaviour the policies promise and fails while a look-up or a filter on
a masked field answers yes or no to a guess; they are marked xfail (strict) until that is fixed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hub.identifiers.id_number import id_check_char
from tests.graph.conftest import DepartmentServices, HubClient, hub_settings, open_hub
from tests.policy.test_applied import CALLERS, ENTERPRISE, LEGAL_REP, PERSON, ask, caller, caller_named_in_header

CASE = "centre.case:read"


@pytest.fixture
async def hub(demo_data_dir: Path, services: DepartmentServices) -> AsyncIterator[HubClient]:
    settings = hub_settings(demo_data_dir, services.ecology.url, services.security.url)
    async with open_hub(settings, authenticate=caller_named_in_header) as client:
        CALLERS["masked-people"] = caller("masked-people", {ENTERPRISE: ["licensing"], PERSON: ["licensing"],
                                                            LEGAL_REP: ["licensing"]})
        CALLERS["case-clerk"] = caller("case-clerk", {CASE: ["case_handling"], ENTERPRISE: ["case_handling"]})
        yield client


def id_numbers_behind(masked_id: str, birth_year: str) -> list[str]:
    """Every valid ID number a masked one (6 kept, 8 starred, 4 kept) and a birth year leave open."""
    start, end = masked_id[:6], masked_id[-4:]
    day, found = dt.date(int(birth_year), 1, 1), []
    while day.year == int(birth_year):
        first17 = start + day.strftime("%Y%m%d") + end[:3]
        if id_check_char(first17) == end[3]:
            found.append(first17 + end[3])
        day += dt.timedelta(days=1)
    return found


async def test_a_masked_id_number_cannot_be_recovered_by_looking_up_each_birth_date_of_its_year(
    hub: HubClient, demo_db: Any
) -> None:
    [enterprise] = demo_db("market", "SELECT * FROM enterprises WHERE legal_rep_id IS NOT NULL ORDER BY uscc LIMIT 1")
    shown = await ask(hub, "masked-people", "query($u: String!) { enterprise(uscc: $u) "
                      "{ legalRepresentative { idNumber birthDate } } }", u=enterprise["uscc"])
    person = shown["data"]["enterprise"]["legalRepresentative"]
    assert "*" in person["idNumber"] and len(person["birthDate"]) == 4  # masked in this caller's view
    candidates = id_numbers_behind(person["idNumber"], person["birthDate"])
    assert enterprise["legal_rep_id"] in candidates and len(candidates) < 60
    aliases = " ".join(f'p{i}: person(idNumber: "{c}") {{ idType }}' for i, c in enumerate(candidates))
    body = await ask(hub, "masked-people", "{ " + aliases + " }")
    recovered = [c for i, c in enumerate(candidates) if (body.get("data") or {}).get(f"p{i}") is not None]
    assert recovered != [enterprise["legal_rep_id"]]


async def test_filtering_cases_by_applicant_confirms_no_guess_for_a_caller_who_sees_a_pseudonym(
    hub: HubClient, demo_db: Any
) -> None:
    [case] = demo_db("centre", "SELECT * FROM cases WHERE applicant_id_type = 'ID' ORDER BY number LIMIT 1")
    shown = await ask(hub, "case-clerk", "query($n: String!) { case(number: $n) { applicantId } }",
                      purpose="case_handling", n=case["number"])
    assert shown["data"]["case"]["applicantId"] != case["applicant_id"]  # pseudonymised in this caller's view
    body = await ask(hub, "case-clerk", "query($a: String!) { cases(first: 100, applicantId: $a) "
                     "{ edges { node { number } } } }", purpose="case_handling", a=case["applicant_id"])
    found = [e["node"]["number"] for e in ((body.get("data") or {}).get("cases") or {}).get("edges", [])]
    assert case["number"] not in found


async def test_an_enterprises_cases_do_not_link_its_uscc_to_the_applicant_pseudonym(
    hub: HubClient, demo_db: Any
) -> None:
    [case] = demo_db("centre", "SELECT * FROM cases WHERE applicant_id_type = 'USCC' ORDER BY number LIMIT 1")
    denied = await ask(hub, "case-clerk", "query($n: String!) { case(number: $n) { applicantEnterprise { uscc } } }",
                       purpose="case_handling", n=case["number"])
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # the relation is denied this way round
    body = await ask(hub, "case-clerk", "query($u: String!) { enterprise(uscc: $u) { cases { number applicantId } } }",
                     purpose="case_handling", u=case["applicant_id"])
    enterprise = (body.get("data") or {}).get("enterprise") or {}
    assert case["number"] not in [c["number"] for c in enterprise.get("cases") or []]
