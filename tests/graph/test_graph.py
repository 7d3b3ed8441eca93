"""The one graph over the demo departments, as a department system would query it."""

from __future__ import annotations

from typing import Any

from schema.pagination import decode_cursor
from tests.graph.conftest import HubClient

ENTERPRISE = """
query($uscc: String!) {
  enterprise(uscc: $uscc) {
    uscc name status registeredCapital regionCode regionName
    legalRepresentative { idNumber name sex birthDate identityVerification { found verified nameMatches } }
    taxRegistration { creditGrade status }
    licences { __typename number validFrom validTo status holder { uscc } }
    cases { number status stages { seq stage } }
  }
}
"""


def _enterprise_with_every_kind(demo_db: Any) -> str:
    rows = demo_db("market", "SELECT holder_uscc FROM food_licences ORDER BY holder_uscc")
    food = {r["holder_uscc"] for r in rows}
    housing = {r["builder_uscc"] for r in demo_db("housing", "SELECT builder_uscc FROM construction_permits")}
    ecology = {r["holder_uscc"] for r in demo_db("ecology", "SELECT holder_uscc FROM discharge_permits")}
    both = sorted(food & housing & ecology) or sorted(food & ecology) or sorted(food)
    return both[0]


async def test_enterprise_joins_registration_tax_licences_and_cases_from_their_owners(
    hub: HubClient, demo_db: Any
) -> None:
    uscc = _enterprise_with_every_kind(demo_db)
    result = await hub.query(ENTERPRISE, {"uscc": uscc})
    assert "errors" not in result
    enterprise = result["data"]["enterprise"]
    registered = demo_db("market", "SELECT * FROM enterprises WHERE uscc = ?", uscc)[0]
    assert enterprise["name"] == registered["name"]
    assert enterprise["regionCode"] == uscc[2:8]
    assert enterprise["regionName"].startswith("河北省唐山市")
    rep = demo_db("market", "SELECT * FROM persons WHERE id_number = ?", registered["legal_rep_id"])[0]
    assert enterprise["legalRepresentative"]["name"] == rep["name"]
    assert enterprise["legalRepresentative"]["identityVerification"]["found"] is True
    expected = {r["number"] for r in demo_db("market", "SELECT number FROM food_licences WHERE holder_uscc = ?", uscc)}
    expected |= {r["permit_no"] for r in demo_db("housing", "SELECT permit_no FROM construction_permits WHERE builder_uscc = ?", uscc)}
    expected |= {r["permit_number"] for r in demo_db("ecology", "SELECT permit_number FROM discharge_permits WHERE holder_uscc = ?", uscc)}
    assert {lic["number"] for lic in enterprise["licences"]} == expected
    assert {lic["holder"]["uscc"] for lic in enterprise["licences"]} == {uscc}
    cases = demo_db("centre", "SELECT number FROM cases WHERE applicant_id = ?", uscc)
    assert {c["number"] for c in enterprise["cases"]} == {c["number"] for c in cases}


async def test_licence_by_number_goes_to_the_issuing_department(hub: HubClient, demo_db: Any) -> None:
    numbers = {
        "FoodBusinessLicence": demo_db("market", "SELECT number AS n FROM food_licences LIMIT 1")[0]["n"],
        "ConstructionPermit": demo_db("housing", "SELECT permit_no AS n FROM construction_permits LIMIT 1")[0]["n"],
        "PollutantDischargePermit": demo_db("ecology", "SELECT permit_number AS n FROM discharge_permits LIMIT 1")[0]["n"],
    }
    for type_name, number in numbers.items():
        result = await hub.query("query($n: String!) { licence(number: $n) { __typename number holder { uscc } } }", {"n": number})
        assert result["data"]["licence"]["__typename"] == type_name
        assert result["data"]["licence"]["number"] == number


async def test_unknown_keys_answer_null_without_error(hub: HubClient) -> None:
    result = await hub.query('{ enterprise(uscc: "91110000600037341L") { name } licence(number: "JY11302020000011") { number } }')
    assert result["data"] == {"enterprise": None, "licence": None} or result["data"]["enterprise"] is None


async def test_person_carries_identity_verification_from_public_security(hub: HubClient, demo_db: Any) -> None:
    person = demo_db("market", "SELECT * FROM persons LIMIT 1")[0]
    result = await hub.query(
        "query($id: String!) { person(idNumber: $id) { name represents { uscc } identityVerification { found nameMatches } } }",
        {"id": person["id_number"]},
    )
    data = result["data"]["person"]
    assert data["name"] == person["name"]
    assert data["identityVerification"]["found"] is True
    represented = demo_db("market", "SELECT uscc FROM enterprises WHERE legal_rep_id = ?", person["id_number"])
    assert {e["uscc"] for e in data["represents"]} == {r["uscc"] for r in represented}


async def test_case_has_its_matter_stages_in_order_and_the_licence_it_issued(hub: HubClient, demo_db: Any) -> None:
    case = demo_db("centre", "SELECT * FROM cases WHERE licence_number IS NOT NULL LIMIT 1")[0]
    result = await hub.query(
        "query($n: String!) { case(number: $n) { number matter { code name } stages { seq stage } licence { number } applicantEnterprise { uscc } } }",
        {"n": case["number"]},
    )
    data = result["data"]["case"]
    assert data["matter"]["code"] == case["matter_code"]
    assert [s["seq"] for s in data["stages"]] == sorted(s["seq"] for s in data["stages"])
    assert data["licence"]["number"] == case["licence_number"]


async def test_licences_connection_walks_a_region_exactly_once_in_number_order(hub: HubClient, demo_db: Any) -> None:
    region = demo_db("market", "SELECT region_code FROM food_licences GROUP BY region_code ORDER BY count(*) DESC LIMIT 1")[0]["region_code"]
    expected = sorted(
        [r["number"] for r in demo_db("market", "SELECT number FROM food_licences WHERE region_code = ?", region)]
        + [r["permit_no"] for r in demo_db("housing", "SELECT permit_no FROM construction_permits WHERE region_code = ?", region)]
        + [r["permit_number"] for r in demo_db("ecology", "SELECT permit_number FROM discharge_permits WHERE region_code = ?", region)]
    )
    seen: list[str] = []
    after = None
    while True:
        result = await hub.query(
            "query($r: String!, $a: String) { licences(first: 7, after: $a, region: $r) { edges { cursor node { number regionCode } } pageInfo { hasNextPage endCursor } } }",
            {"r": region, "a": after},
        )
        page = result["data"]["licences"]
        seen += [e["node"]["number"] for e in page["edges"]]
        assert all(e["node"]["regionCode"] == region for e in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected


async def test_licences_expiring_within_n_days_match_the_sources(hub: HubClient, demo_db: Any) -> None:
    start, end = "2026-11-01", "2026-12-01"
    expected = sorted(
        [r["number"] for r in demo_db("market", "SELECT number FROM food_licences WHERE valid_to BETWEEN ? AND ?", start, end)]
        + [r["permit_no"] for r in demo_db("housing", "SELECT permit_no FROM construction_permits WHERE valid_to BETWEEN ? AND ?", start, end)]
        + [r["permit_number"] for r in demo_db("ecology", "SELECT permit_number FROM discharge_permits WHERE valid_to BETWEEN ? AND ?", start, end)]
    )
    assert expected, "the demo data should have licences expiring within 30 days"
    result = await hub.query("{ licences(first: 1000, expiringWithinDays: 30) { edges { node { number validTo } } } }")
    assert [e["node"]["number"] for e in result["data"]["licences"]["edges"]] == expected


async def test_licence_kind_filter_returns_only_that_kind(hub: HubClient) -> None:
    result = await hub.query("{ licences(first: 50, kind: POLLUTANT_DISCHARGE) { edges { node { __typename } } } }")
    kinds = {e["node"]["__typename"] for e in result["data"]["licences"]["edges"]}
    assert kinds == {"PollutantDischargePermit"}


async def test_enterprises_connection_filters_by_region_and_status(hub: HubClient, demo_db: Any) -> None:
    region = "130203"
    expected = [r["uscc"] for r in demo_db("market", "SELECT uscc FROM enterprises WHERE region_code = ? ORDER BY uscc", region)]
    result = await hub.query(
        "query($r: String!) { enterprises(first: 1000, region: $r) { edges { node { uscc regionCode } } pageInfo { hasNextPage } } }",
        {"r": region},
    )
    assert [e["node"]["uscc"] for e in result["data"]["enterprises"]["edges"]] == expected
    whole_city = await hub.query('{ enterprises(first: 5, region: "130200") { edges { node { uscc } } pageInfo { hasNextPage } } }')
    assert len(whole_city["data"]["enterprises"]["edges"]) == 5
    assert whole_city["data"]["enterprises"]["pageInfo"]["hasNextPage"] is True


async def test_cases_connection_filters_by_status(hub: HubClient, demo_db: Any) -> None:
    expected = [r["number"] for r in demo_db("centre", "SELECT number FROM cases WHERE status = 'completed' ORDER BY number LIMIT 10")]
    result = await hub.query("{ cases(first: 10, status: COMPLETED) { edges { node { number status } } } }")
    edges = result["data"]["cases"]["edges"]
    assert [e["node"]["number"] for e in edges] == expected
    assert {e["node"]["status"] for e in edges} == {"COMPLETED"}


async def test_edge_cursors_are_answered_however_the_operation_asks_for_them(hub: HubClient) -> None:
    direct = (await hub.query("{ enterprises(first: 5) { edges { cursor node { uscc } } "
                              "pageInfo { startCursor endCursor } } }"))["data"]["enterprises"]
    cursors = [edge["cursor"] for edge in direct["edges"]]
    assert [decode_cursor(c) for c in cursors] == [edge["node"]["uscc"] for edge in direct["edges"]]
    assert (direct["pageInfo"]["startCursor"], direct["pageInfo"]["endCursor"]) == (cursors[0], cursors[-1])
    asked = [
        "{ enterprises(first: 5) { ...Page } } fragment Page on EnterpriseConnection { edges { cursor } }",
        "{ enterprises(first: 5) { edges { ...Edge } } } fragment Edge on EnterpriseEdge { cursor }",
        "{ enterprises(first: 5) { ... on EnterpriseConnection { edges { cursor } } } }",
        "{ enterprises(first: 5) { edges { ... { cursor } } } }",
        "{ enterprises(first: 5) { edges { c: cursor } } }",
        "{ enterprises(first: 5) { edges { cursor @include(if: true) } } }",
    ]
    for query in asked:
        edges = (await hub.query(query))["data"]["enterprises"]["edges"]
        assert [edge.get("cursor", edge.get("c")) for edge in edges] == cursors, query
    nodes_only = (await hub.query("{ enterprises(first: 5) { edges { node { uscc } } "
                                  "pageInfo { startCursor endCursor } } }"))["data"]["enterprises"]
    assert nodes_only["pageInfo"] == direct["pageInfo"]
