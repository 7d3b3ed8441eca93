"""Fetched once: batching per (connector, entity) within a request, the entity cache across requests."""

from __future__ import annotations

from typing import Any

from tests.graph.conftest import HubClient


def _hundred_licences_of_forty_holders(demo_db: Any) -> list[str]:
    """100 food licence numbers whose holders are exactly 40 distinct enterprises."""
    rows = demo_db("market", "SELECT number, holder_uscc FROM food_licences ORDER BY holder_uscc, number")
    by_holder: dict[str, list[str]] = {}
    for row in rows:
        by_holder.setdefault(row["holder_uscc"], []).append(row["number"])
    holders = sorted(by_holder, key=lambda h: -len(by_holder[h]))[:40]
    numbers = [by_holder[h][0] for h in holders]
    spare = [n for h in holders for n in by_holder[h][1:]]
    numbers += spare[: 100 - len(numbers)]
    assert len(numbers) == 100 and len({*numbers}) == 100, "demo data has too few food licences per holder"
    return numbers


async def test_hundred_licences_of_forty_holders_along_three_paths_cost_one_enterprise_call(
    hub: HubClient, demo_db: Any
) -> None:
    numbers = _hundred_licences_of_forty_holders(demo_db)
    holders = sorted({r["holder_uscc"] for r in demo_db(
        "market", f"SELECT holder_uscc FROM food_licences WHERE number IN ({','.join('?' * 100)})", *numbers)})
    # Three paths to the same 40 enterprises: the root field by USCC, licence.holder, and an
    # aliased holder inside an inline fragment one level deeper (with its legal representative).
    roots = [f'e{i}: enterprise(uscc: "{u}") {{ name }}' for i, u in enumerate(holders)]
    licences = [
        f'l{i}: licence(number: "{n}") {{ holder {{ uscc name }} '
        f'... on FoodBusinessLicence {{ owner: holder {{ legalRepresentative {{ name }} }} }} }}'
        for i, n in enumerate(numbers)
    ]
    query = "{ " + "\n".join(roots + licences) + " }"
    before = hub.source_calls("market", "enterprise")
    result = await hub.query(query)
    assert "errors" not in result, result.get("errors")
    assert {result["data"][f"l{i}"]["holder"]["uscc"] for i in range(100)} == set(holders)
    assert len(holders) == 40
    assert hub.source_calls("market", "enterprise") - before == 1
    assert hub.source_calls("market", "food_licence") == 1
    assert hub.source_calls("market", "person") == 1

    calls_before_repeat = hub.all_source_calls()
    hits_before = hub.hub.metrics.value("hub_cache_hits_total", connector="market")
    again = await hub.query(query)
    assert again == result
    assert hub.all_source_calls() == calls_before_repeat, "the same query within the TTL costs no source call"
    assert hub.hub.metrics.value("hub_cache_hits_total", connector="market") - hits_before >= 100 + 40


async def test_connection_of_licences_with_holders_three_ways_costs_one_call_per_entity(
    hub: HubClient, demo_db: Any
) -> None:
    query = """
    {
      licences(first: 100, kind: FOOD_BUSINESS) {
        edges { node {
          holder { uscc legalRepresentative { name identityVerification { verified } } taxRegistration { creditGrade } }
          ... on FoodBusinessLicence { holder { name licences { number } } }
        } }
      }
      again: licences(first: 100, kind: FOOD_BUSINESS) { edges { node { holder { registeredCapital } } } }
    }
    """
    result = await hub.query(query)
    assert "errors" not in result, result.get("errors")
    calls = {k: v for k, v in hub.all_source_calls().items() if v}
    assert calls[("market", "enterprise")] == 1
    assert calls[("market", "person")] == 1
    assert calls[("security", "identity_record")] == 1
    assert calls[("taxation", "tax_registration")] == 1
    # food_licence: 2 selects (two connections) + 1 fetch by holder for `licences`.
    assert calls[("market", "food_licence")] == 3
    assert calls[("housing", "construction_permit")] == 1
    assert calls[("ecology", "discharge_permit")] == 1


async def test_thousand_enterprises_with_contributed_fields_is_one_call_per_department(hub: HubClient) -> None:
    result = await hub.query(
        "{ enterprises(first: 1000) { edges { node { uscc taxRegistration { creditGrade } legalRepresentative { name } abnormalOperations { reason } } } } }"
    )
    assert "errors" not in result
    calls = {k: v for k, v in hub.all_source_calls().items() if v}
    assert calls == {
        ("market", "enterprise"): 1,
        ("market", "person"): 1,
        ("market", "abnormal_operation"): 1,
        ("taxation", "tax_registration"): 1,
    }


async def test_cache_entries_expire_after_the_connector_ttl(hub: HubClient, demo_db: Any) -> None:
    uscc = demo_db("market", "SELECT uscc FROM enterprises LIMIT 1")[0]["uscc"]
    query = 'query($u: String!) { enterprise(uscc: $u) { name } }'
    await hub.query(query, {"u": uscc})
    hub.hub.sources.connectors["market"].cache_ttl = 0.0  # type: ignore[misc]
    await hub.hub.sources.cache.clear("market:")
    await hub.query(query, {"u": uscc})
    await hub.query(query, {"u": uscc})
    assert hub.source_calls("market", "enterprise") == 3, "with a TTL of zero nothing is kept"
