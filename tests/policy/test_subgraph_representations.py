"""A subgraph takes an entity representation as the caller's word: checked like an argument.

Each refusal here is one a department's ``_entities`` adds so that it grants no more than the graph:
bad representations are BAD_USER_INPUT at their own index, a type outside the view is refused as one the
subgraph does not resolve before any look-up, the row filter holds at a contributing department (and the disclosure is recorded there), and
a value the caller sees masked is never compared with the real one.
"""

from __future__ import annotations

from typing import Any

from hub.audit import who_accessed
from tests.graph.conftest import HubClient
from tests.policy.test_applied import CALLERS, ENTERPRISE, PERSON, caller
from tests.policy.test_review_subgraphs import IDENTITY_RECORD, hub, region, subgraph  # noqa: F401

PERMIT = "housing.construction_permit:read"
IDENTITY = "security.identity:read"
ENTITIES = "query($r: [_Any!]!) { _entities(representations: $r) { %s } }"
TAX_QUERY = ENTITIES % "... on Enterprise { taxRegistration { status } }"
VERIFY_QUERY = ENTITIES % "... on Person { identityVerification { nameMatches } }"
A_PERSON = "SELECT id_number, name FROM population ORDER BY id_number LIMIT 1"


def codes(body: dict[str, Any]) -> list[tuple[Any, str]]:
    return [(e["path"][-1], e["extensions"]["code"]) for e in body.get("errors", [])]


def taxed(demo_db: Any, region: str, inside: bool) -> str:  # noqa: F811
    """An enterprise with a tax registration, inside or outside the region."""
    registered = {r["uscc"] for r in demo_db("taxation", "SELECT uscc FROM tax_registrations")}
    rows = demo_db("market", "SELECT uscc, region_code FROM enterprises ORDER BY uscc")
    return next(r["uscc"] for r in rows
                if r["uscc"] in registered and r["region_code"].startswith(region) == inside)


async def taxation(hub: HubClient, representations: list[Any]) -> Any:  # noqa: F811
    return await subgraph(hub, "taxation", "district-tax", TAX_QUERY, representations)


async def test_a_regional_caller_gets_tax_registrations_inside_its_region_and_null_outside(
    hub: HubClient, demo_db: Any, region: str  # noqa: F811
) -> None:
    inside, outside = taxed(demo_db, region, True), taxed(demo_db, region, False)
    body = await taxation(hub, [{"__typename": "Enterprise", "uscc": u} for u in (inside, outside)])
    assert "errors" not in body
    first, second = body["data"]["_entities"]
    assert first["taxRegistration"]["status"] and second is None
    store = hub.hub.disclosures.store
    assert [a.fields for a in await who_accessed(store, inside) if a.client_id == "district-tax"] == [
        {"Enterprise.tax_registration": "allow", "TaxRegistration.status": "allow"}]
    assert [a for a in await who_accessed(store, outside) if a.client_id == "district-tax"] == []


async def test_a_representation_cannot_bring_its_own_division_code(
    hub: HubClient, demo_db: Any, region: str  # noqa: F811
) -> None:
    outside = taxed(demo_db, region, False)
    body = await taxation(hub, [{"__typename": "Enterprise", "uscc": outside, "regionCode": region + "01"}])
    assert body["data"]["_entities"] == [None] and codes(body) == [(0, "BAD_USER_INPUT")]
    assert "regionCode" in body["errors"][0]["message"]


async def test_a_malformed_uscc_is_bad_input_for_a_regional_caller(hub: HubClient) -> None:  # noqa: F811
    body = await taxation(hub, [{"__typename": "Enterprise", "uscc": "91X"}])
    assert body["data"]["_entities"] == [None] and codes(body) == [(0, "BAD_USER_INPUT")]


async def test_a_representation_without_its_key_or_with_a_key_not_a_string_is_bad_input(
    hub: HubClient,  # noqa: F811
) -> None:
    body = await taxation(hub, [{"__typename": "Enterprise"}, {"__typename": "Enterprise", "uscc": 911302}])
    assert body["data"]["_entities"] == [None, None]
    assert codes(body) == [(0, "BAD_USER_INPUT"), (1, "BAD_USER_INPUT")]


async def test_an_unknown_typename_or_none_is_bad_input_and_the_others_still_resolve(
    hub: HubClient, demo_db: Any, region: str  # noqa: F811
) -> None:
    inside = taxed(demo_db, region, True)
    body = await taxation(hub, [{"__typename": "Spaceship", "uscc": inside}, {"uscc": inside}, "Enterprise",
                                {"__typename": "Enterprise", "uscc": inside}])
    assert codes(body) == [(0, "BAD_USER_INPUT"), (1, "BAD_USER_INPUT"), (2, "BAD_USER_INPUT")]
    assert body["data"]["_entities"][:3] == [None, None, None]
    assert body["data"]["_entities"][3]["taxRegistration"]["status"]


async def test_a_type_outside_the_view_is_refused_as_unknown_without_a_source_call(
    hub: HubClient, demo_db: Any  # noqa: F811
) -> None:
    CALLERS["enterprise-only"] = caller("enterprise-only", {ENTERPRISE: ["licensing"]})
    registered = demo_db("market", "SELECT id_number FROM persons ORDER BY id_number LIMIT 1")[0]["id_number"]
    before = hub.all_source_calls()
    body = await subgraph(hub, "market", "enterprise-only", ENTITIES % "__typename",
                          [{"__typename": "Person", "idNumber": registered, "extra": 1}])
    assert body["data"] == {"_entities": [None]} and codes(body) == [(0, "BAD_USER_INPUT")]
    assert "'Person'" in body["errors"][0]["message"] and "Person," not in body["errors"][0]["message"]
    assert hub.all_source_calls() == before


async def test_a_name_is_compared_for_a_caller_who_sees_names_in_clear(
    hub: HubClient, demo_db: Any  # noqa: F811
) -> None:
    CALLERS["identity-clear"] = caller("identity-clear", {
        PERSON: ["licensing"], IDENTITY_RECORD: ["licensing"], IDENTITY: ["licensing"]})
    known = demo_db("security", A_PERSON)[0]
    answers = []
    for guess in (known["name"], known["name"][:1] + "某某"):
        reps = [{"__typename": "Person", "idNumber": known["id_number"], "name": guess}]
        body = await subgraph(hub, "security", "identity-clear", VERIFY_QUERY, reps)
        answers.append(body["data"]["_entities"][0]["identityVerification"]["nameMatches"])
    assert answers == [True, False]


async def test_a_name_from_a_caller_who_sees_names_masked_is_forbidden(
    hub: HubClient, demo_db: Any  # noqa: F811
) -> None:
    known = demo_db("security", A_PERSON)[0]
    reps = [{"__typename": "Person", "idNumber": known["id_number"], "name": known["name"]}]
    body = await subgraph(hub, "security", "identity-checker", VERIFY_QUERY, reps)
    assert body["data"]["_entities"] == [None] and codes(body) == [(0, "FORBIDDEN")]
    message = body["errors"][0]["message"]
    assert "Person.name is masked (name)" in message and "Person.id_number is masked (id_number)" in message
    assert known["name"] not in str(body)


async def test_the_centre_names_no_permit_outside_a_regional_callers_region(
    hub: HubClient, demo_db: Any, region: str  # noqa: F811
) -> None:
    CALLERS["district-permits"] = caller("district-permits", {PERMIT: ["licensing"]}, jurisdiction=region)
    permits = demo_db("housing", "SELECT permit_no, region_code FROM construction_permits ORDER BY permit_no")
    inside = next(p["permit_no"] for p in permits if p["region_code"].startswith(region))
    outside = next(p["permit_no"] for p in permits if not p["region_code"].startswith(region))
    reps = [{"__typename": "ConstructionPermit", "number": n} for n in (inside, outside, "NOSUCHPERMIT")]
    query = ENTITIES % "... on ConstructionPermit { number }"
    body = await subgraph(hub, "centre", "district-permits", query, reps)
    assert body == {"data": {"_entities": [{"number": inside}, None, None]}}
