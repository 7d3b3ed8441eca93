"""Policies applied on read through /graphql: allow, mask, deny per field; visibility; row filters.

The callers here come from the authenticator seam (a test caller named by a header) so each test
states the grants it is about; tests/policy/test_tokens_end_to_end.py goes through real tokens.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request

from hub.context import Caller
from hub.policy.masks import amount_band, keep_ends
from tests.graph.conftest import DepartmentServices, HubClient, hub_settings, open_hub

ENTERPRISE = "market.enterprise:read"
PERSON = "market.person:read"
LEGAL_REP = "market.enterprise.legal_rep:read"
FINANCE = "market.finance:read"
TAX = "taxation.tax_registration:read"
CREDIT = "taxation.credit:read"
CAPITAL_EDGES = (10, 100, 500, 1000, 5000, 10000)


def caller(name: str, scopes: dict[str, list[str]], jurisdiction: str = "") -> Caller:
    return Caller(
        client_id=name, department="market",
        scopes=frozenset(scopes), grants={s: frozenset(p) for s, p in scopes.items()}, jurisdiction=jurisdiction,
    )


CALLERS = {
    "registry-only": caller("registry-only", {ENTERPRISE: ["licensing"]}),
    "finance": caller("finance", {ENTERPRISE: ["licensing"], FINANCE: ["licensing"]}),
    "people": caller("people", {ENTERPRISE: ["licensing"], PERSON: ["licensing"]}),
    "tax": caller("tax", {ENTERPRISE: ["licensing", "supervision"], TAX: ["licensing", "supervision"],
                          CREDIT: ["licensing", "supervision"]}),
}


async def caller_named_in_header(request: Request) -> Caller:
    name = request.headers.get("x-test-caller", "")
    if name.startswith("region:"):
        found = caller(name, {ENTERPRISE: ["licensing"]}, jurisdiction=name.removeprefix("region:"))
    else:
        found = CALLERS[name]
    return dataclasses.replace(found, purpose=request.headers.get("x-hub-purpose"))


@pytest.fixture
async def hub(demo_data_dir: Path, services: DepartmentServices) -> AsyncIterator[HubClient]:
    settings = hub_settings(demo_data_dir, services.ecology.url, services.security.url)
    async with open_hub(settings, authenticate=caller_named_in_header) as client:
        yield client


async def ask(hub: HubClient, who: str, query: str, purpose: str | None = "licensing", **variables: Any) -> Any:
    headers = {"x-test-caller": who}
    if purpose is not None:
        headers["x-hub-purpose"] = purpose
    response = await hub.http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def enterprise(demo_db: Any) -> dict[str, Any]:
    return demo_db("market", "SELECT * FROM enterprises WHERE legal_rep_id IS NOT NULL ORDER BY uscc LIMIT 1")[0]


ENTERPRISE_QUERY = "query($u: String!) { enterprise(uscc: $u) { uscc name registeredCapital address } }"


async def test_registered_capital_is_banded_without_the_finance_scope_and_exact_with_it(
    hub: HubClient, enterprise: dict[str, Any]
) -> None:
    banded = await ask(hub, "registry-only", ENTERPRISE_QUERY, u=enterprise["uscc"])
    exact = await ask(hub, "finance", ENTERPRISE_QUERY, u=enterprise["uscc"])
    assert "errors" not in banded and "errors" not in exact
    assert banded["data"]["enterprise"]["registeredCapital"] == amount_band(enterprise["registered_capital"],
                                                                              CAPITAL_EDGES)
    assert exact["data"]["enterprise"]["registeredCapital"] == enterprise["registered_capital"]
    assert banded["data"]["enterprise"]["name"] == exact["data"]["enterprise"]["name"] == enterprise["name"]


async def test_masked_field_is_typed_as_text_in_the_callers_view(hub: HubClient) -> None:
    query = '{ __type(name: "Enterprise") { fields { name type { name kind ofType { name } } } } }'
    banded = await ask(hub, "registry-only", query)
    exact = await ask(hub, "finance", query)

    def capital(body: Any) -> Any:
        return next(f["type"] for f in body["data"]["__type"]["fields"] if f["name"] == "registeredCapital")

    assert capital(banded) == {"name": "String", "kind": "SCALAR", "ofType": None}
    assert capital(exact) == {"name": None, "kind": "NON_NULL", "ofType": {"name": "Float"}}


async def test_a_field_needing_a_scope_not_granted_is_null_with_a_forbidden_error_naming_it(
    hub: HubClient, enterprise: dict[str, Any]
) -> None:
    query = "query($u: String!) { enterprise(uscc: $u) { name legalRepresentative { idType } } }"
    body = await ask(hub, "people", query, u=enterprise["uscc"])
    assert body["data"]["enterprise"] == {"name": enterprise["name"], "legalRepresentative": None}
    [error] = body["errors"]
    assert error["path"] == ["enterprise", "legalRepresentative"]
    assert error["extensions"] == {"code": "FORBIDDEN", "reason": "scope", "scope": LEGAL_REP}
    assert LEGAL_REP in error["message"]


async def test_a_purpose_the_grant_does_not_name_is_forbidden_naming_the_purposes(
    hub: HubClient, enterprise: dict[str, Any]
) -> None:
    body = await ask(hub, "registry-only", "query($u: String!) { enterprise(uscc: $u) { name } }",
                     purpose="statistics", u=enterprise["uscc"])
    # Every field of the type is denied for this purpose: the enterprise is refused whole, registered or not.
    assert body["data"] == {"enterprise": None}
    [error] = body["errors"]
    assert error["path"] == ["enterprise"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["extensions"]["reason"] == "purpose"
    assert "licensing" in error["extensions"]["purpose"] and "'statistics'" in error["extensions"]["purpose"]


async def test_a_request_without_a_purpose_is_forbidden_every_field(hub: HubClient, enterprise: dict[str, Any]) -> None:
    body = await ask(hub, "registry-only", "query($u: String!) { enterprise(uscc: $u) { name } }",
                     purpose=None, u=enterprise["uscc"])
    assert body["data"] == {"enterprise": None}
    assert "X-Hub-Purpose" in body["errors"][0]["extensions"]["purpose"]


async def test_a_field_purpose_narrower_than_the_type_is_forbidden_for_other_purposes(
    hub: HubClient, enterprise: dict[str, Any]
) -> None:
    query = "query($u: String!) { enterprise(uscc: $u) { taxRegistration { status creditGrade } } }"
    licensing = await ask(hub, "tax", query, purpose="licensing", u=enterprise["uscc"])
    supervision = await ask(hub, "tax", query, purpose="supervision", u=enterprise["uscc"])
    assert "errors" not in licensing
    assert licensing["data"]["enterprise"]["taxRegistration"]["creditGrade"] in ("A", "B", "M", "C", "D")
    assert supervision["data"]["enterprise"]["taxRegistration"]["creditGrade"] is None
    [error] = supervision["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN" and error["extensions"]["reason"] == "purpose"
    assert error["path"] == ["enterprise", "taxRegistration", "creditGrade"]


async def test_a_type_outside_the_grants_looks_exactly_like_a_field_that_does_not_exist(
    hub: HubClient, enterprise: dict[str, Any]
) -> None:
    hub.hub.documents.hide_suggestions = True  # as in production
    hidden = await ask(hub, "registry-only", "{ enterprise(uscc: \"x\") { taxRegistration { status } } }")
    missing = await ask(hub, "registry-only", "{ enterprise(uscc: \"x\") { taxRegistrations { status } } }")
    assert "data" not in hidden and "data" not in missing
    [hidden_error], [missing_error] = hidden["errors"], missing["errors"]
    assert hidden_error["message"] == "Cannot query field 'taxRegistration' on type 'Enterprise'."
    assert missing_error["message"] == "Cannot query field 'taxRegistrations' on type 'Enterprise'."
    assert hidden_error["extensions"] == missing_error["extensions"]
    granted = await ask(hub, "tax", "query($u: String!) { enterprise(uscc: $u) { taxRegistration { status } } }",
                        u=enterprise["uscc"])
    assert "errors" not in granted


async def test_introspection_shows_only_the_types_and_fields_the_grants_reach(hub: HubClient) -> None:
    query = "{ __schema { types { name } queryType { fields { name } } } }"
    narrow = await ask(hub, "registry-only", query)
    wide = await ask(hub, "tax", query)
    narrow_types = {t["name"] for t in narrow["data"]["__schema"]["types"]}
    wide_types = {t["name"] for t in wide["data"]["__schema"]["types"]}
    assert "Enterprise" in narrow_types and "TaxRegistration" not in narrow_types
    assert {"Person", "Case", "FoodBusinessLicence", "Licence", "IdentityVerification"}.isdisjoint(narrow_types)
    assert "TaxRegistration" in wide_types
    roots = {f["name"] for f in narrow["data"]["__schema"]["queryType"]["fields"]}
    assert roots == {"enterprise", "enterprises"}
    assert (await ask(hub, "registry-only", '{ __type(name: "Person") { name } }'))["data"] == {"__type": None}


async def test_jurisdiction_limits_lists_and_look_ups_to_the_callers_region(
    hub: HubClient, demo_db: Any
) -> None:
    [region] = demo_db("market", "SELECT region_code AS p FROM enterprises GROUP BY p "
                       "ORDER BY count(*) DESC LIMIT 1")
    prefix = region["p"]
    inside = demo_db("market", "SELECT uscc FROM enterprises WHERE region_code LIKE ? ORDER BY uscc", prefix + "%")
    outside = demo_db("market", "SELECT uscc FROM enterprises WHERE region_code NOT LIKE ? LIMIT 1", prefix + "%")
    body = await ask(hub, f"region:{prefix}", "{ enterprises(first: 1000) { edges { node { uscc regionCode } } } }")
    listed = [e["node"] for e in body["data"]["enterprises"]["edges"]]
    assert [e["uscc"] for e in listed] == [r["uscc"] for r in inside]
    assert all(e["regionCode"].startswith(prefix) for e in listed)
    one = "query($u: String!) { enterprise(uscc: $u) { uscc } }"
    assert (await ask(hub, f"region:{prefix}", one, u=outside[0]["uscc"]))["data"] == {"enterprise": None}
    assert (await ask(hub, f"region:{prefix}", one, u=inside[0]["uscc"]))["data"]["enterprise"] is not None


async def test_two_clients_alternating_over_cached_records_never_see_each_others_view(
    hub: HubClient, enterprise: dict[str, Any]
) -> None:
    query = ("query($u: String!) { enterprise(uscc: $u) { registeredCapital legalRepresentative { idNumber name } } }")
    wide = caller("wide", {ENTERPRISE: ["licensing"], FINANCE: ["licensing"], PERSON: ["licensing"],
                           LEGAL_REP: ["licensing"], "security.identity:read": ["licensing"]})
    narrow = caller("narrow", {ENTERPRISE: ["licensing"], PERSON: ["licensing"], LEGAL_REP: ["licensing"]})
    CALLERS.update(wide=wide, narrow=narrow)
    person_id = enterprise["legal_rep_id"]
    masked_id = keep_ends(person_id, 6, 4)
    calls: list[float] = []
    for round_ in range(3):
        for who in ("wide", "narrow") if round_ % 2 == 0 else ("narrow", "wide"):
            body = await ask(hub, who, query, u=enterprise["uscc"])
            assert "errors" not in body, body
            seen = body["data"]["enterprise"]
            if who == "wide":
                assert seen["registeredCapital"] == enterprise["registered_capital"]
                assert seen["legalRepresentative"]["idNumber"] == person_id
            else:
                assert seen["registeredCapital"] == amount_band(enterprise["registered_capital"], CAPITAL_EDGES)
                assert seen["legalRepresentative"]["idNumber"] == masked_id != person_id
                assert "*" in seen["legalRepresentative"]["name"]
            calls.append(hub.source_calls("market", "enterprise"))
    # The first answer fetched the enterprise; every later one, for either client, came from the cache.
    assert calls[1:] == [calls[0]] * (len(calls) - 1)


async def test_suggestions_in_development_never_name_a_field_outside_the_grants(hub: HubClient) -> None:
    body = await ask(hub, "registry-only", '{ enterprise(uscc: "x") { taxRegistratio { status } } }')
    assert "taxRegistration" not in body["errors"][0]["message"]
    body = await ask(hub, "tax", '{ enterprise(uscc: "x") { taxRegistratio { status } } }')
    assert "Did you mean 'taxRegistration'?" in body["errors"][0]["message"]


async def test_grants_that_reach_no_type_are_refused_before_execution(hub: HubClient) -> None:
    CALLERS["credit-only"] = caller("credit-only", {CREDIT: ["licensing"]})  # a finer scope without its type's
    body = await ask(hub, "credit-only", "{ __typename }")
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_departments_subgraph_applies_the_same_policies(hub: HubClient, enterprise: dict[str, Any]) -> None:
    query = """query($r: [_Any!]!) { _entities(representations: $r) { ... on Enterprise { uscc registeredCapital } } }"""
    representation = [{"__typename": "Enterprise", "uscc": enterprise["uscc"]}]
    response = await hub.http.post(
        "/subgraphs/market/graphql", json={"query": query, "variables": {"r": representation}},
        headers={"x-test-caller": "registry-only", "x-hub-purpose": "licensing"},
    )
    body = response.json()
    assert "errors" not in body, body
    assert body["data"]["_entities"] == [{
        "uscc": enterprise["uscc"],
        "registeredCapital": amount_band(enterprise["registered_capital"], CAPITAL_EDGES),
    }]
    hidden = await hub.http.post(
        "/subgraphs/taxation/graphql",
        json={"query": "query($r: [_Any!]!) { _entities(representations: $r) { ... on Enterprise { taxRegistration "
                       "{ status } } } }", "variables": {"r": representation}},
        headers={"x-test-caller": "registry-only", "x-hub-purpose": "licensing"},
    )
    assert hidden.json()["errors"][0]["message"] == "Cannot query field 'taxRegistration' on type 'Enterprise'."
