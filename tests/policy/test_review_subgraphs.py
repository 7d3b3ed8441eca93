"""Review: a department's subgraph endpoint must grant no more than the graph does.

A contributing subgraph (Taxation, Public Security ...) takes an entity representation as it comes:
its key, and any ``@requires`` field, are the caller's word. Each test states what the graph itself
refuses, and that the subgraph refuses it too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.graph.conftest import DepartmentServices, HubClient, hub_settings, open_hub
from tests.policy.test_applied import CALLERS, ENTERPRISE, PERSON, TAX, ask, caller, caller_named_in_header

IDENTITY_RECORD = "security.identity_record:read"


@pytest.fixture(scope="module")
def region(demo_db: Any) -> str:
    [row] = demo_db("market", "SELECT region_code AS p FROM enterprises GROUP BY p ORDER BY count(*) DESC LIMIT 1")
    return str(row["p"])


@pytest.fixture
async def hub(
    demo_data_dir: Path, services: DepartmentServices, region: str
) -> AsyncIterator[HubClient]:
    settings = hub_settings(demo_data_dir, services.ecology.url, services.security.url)
    async with open_hub(settings, authenticate=caller_named_in_header) as client:
        CALLERS["district-tax"] = caller("district-tax", {ENTERPRISE: ["licensing"], TAX: ["licensing"]},
                                         jurisdiction=region)
        CALLERS["identity-checker"] = caller("identity-checker", {PERSON: ["licensing"],
                                                                  IDENTITY_RECORD: ["licensing"]})
        yield client


async def subgraph(hub: HubClient, department: str, who: str, query: str, representations: list[Any]) -> Any:
    response = await hub.http.post(
        f"/subgraphs/{department}/graphql", json={"query": query, "variables": {"r": representations}},
        headers={"x-test-caller": who, "x-hub-purpose": "licensing"},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_taxation_subgraph_shows_no_tax_registration_of_an_enterprise_outside_the_callers_region(
    hub: HubClient, demo_db: Any, region: str
) -> None:
    outside = [r["uscc"] for r in demo_db("market", "SELECT uscc FROM enterprises WHERE region_code NOT LIKE ? "
                                          "ORDER BY uscc", region + "%")]
    taxed = {r["uscc"] for r in demo_db("taxation", "SELECT uscc FROM tax_registrations")}
    uscc = next(u for u in outside if u in taxed)
    graph = await ask(hub, "district-tax", "query($u: String!) { enterprise(uscc: $u) { taxRegistration { status } } }",
                      u=uscc)
    assert graph["data"] == {"enterprise": None}  # the graph itself keeps the row out
    body = await subgraph(hub, "taxation", "district-tax",
                          "query($r: [_Any!]!) { _entities(representations: $r) { ... on Enterprise "
                          "{ taxRegistration { status taxpayerName } } } }", [{"__typename": "Enterprise", "uscc": uscc}])
    [entity] = body["data"]["_entities"]
    assert entity is None or entity["taxRegistration"] is None


async def test_identity_verification_confirms_no_guessed_name_for_a_caller_who_sees_names_masked(
    hub: HubClient, demo_db: Any
) -> None:
    persons = {r["id_number"]: r["name"] for r in demo_db("market", "SELECT id_number, name FROM persons")}
    population = demo_db("security", "SELECT id_number, name FROM population ORDER BY id_number")
    known = next(p for p in population if persons.get(p["id_number"]) == p["name"])
    graph = await ask(hub, "identity-checker", "query($i: String!) { person(idNumber: $i) { name } }",
                      i=known["id_number"])
    # Not in clear in this caller's view: masked, or the look-up by a number it sees masked refused.
    assert (graph["data"]["person"] or {}).get("name") != known["name"]
    query = ("query($r: [_Any!]!) { _entities(representations: $r) { ... on Person "
             "{ identityVerification { nameMatches verified } } } }")
    answers = []
    for guess in (known["name"], known["name"][:1] + "某某"):
        body = await subgraph(hub, "security", "identity-checker", query,
                              [{"__typename": "Person", "idNumber": known["id_number"], "name": guess}])
        answers.append(body["data"]["_entities"])
    assert answers[0] == answers[1]


async def test_entities_of_a_type_outside_the_view_do_not_tell_a_registered_person_from_an_unknown_one(
    hub: HubClient, demo_db: Any
) -> None:
    CALLERS["enterprise-only"] = caller("enterprise-only", {ENTERPRISE: ["licensing"]})
    registered = {r["id_number"] for r in demo_db("market", "SELECT id_number FROM persons")}
    unknown = next(i for i in ("11010519491231002X", "440524188001010014", "360426199101010071") if i not in registered)
    query = "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }"
    answers = []
    for id_number in (sorted(registered)[0], unknown):
        body = await subgraph(hub, "market", "enterprise-only", query, [{"__typename": "Person", "idNumber": id_number}])
        answers.append((body.get("data"), [e["extensions"]["code"] for e in body.get("errors", [])]))
    assert answers[0] == answers[1]


async def test_a_subgraphs_sdl_is_read_only_by_a_caller_whose_grants_reach_all_of_it(hub: HubClient) -> None:
    from hub.federation.endpoint import subgraph_schema
    from tests.federation.test_sdl import sdl_path

    policies = hub.hub.policies
    whole = {policies.types[name].scope: ["licensing"] for name in policies.types
             if name in subgraph_schema("taxation").type_map}
    CALLERS["taxation-gateway"] = caller("taxation-gateway", whole)
    query = "{ _service { sdl } }"
    restricted = await subgraph(hub, "taxation", "registry-only", query, [])
    missing = await subgraph(hub, "taxation", "registry-only", "{ _serviceAll { sdl } }", [])
    assert "data" not in restricted and "data" not in missing
    assert [e["message"] for e in restricted["errors"]] == ["Cannot query field '_service' on type 'Query'."]
    assert [e["message"] for e in missing["errors"]] == ["Cannot query field '_serviceAll' on type 'Query'."]
    gateway = await subgraph(hub, "taxation", "taxation-gateway", query, [])
    assert gateway["data"]["_service"]["sdl"] + "\n" == sdl_path("taxation").read_text(encoding="utf-8")
