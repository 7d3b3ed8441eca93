"""Rate limits and cost budgets at the GraphQL edge: 429 with Retry-After, nothing run, nothing recorded.

The hub's clock for fair use is the test's (``fair_hub.now``), so windows roll over on the test's word.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from hub.audit import who_accessed
from hub.fairuse.limits import ClientLimits, FairUseSettings
from tests.fairuse.conftest import FairHub, OpenFairHub, with_defaults

ENTERPRISE = 'query($u: String!) { enterprise(uscc: $u) { uscc name } }'
PAGE = "{ enterprises(first: 10) { edges { node { uscc } } } }"


def unique(prefix: str = "client") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert "data" not in body, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == code, error
    return error  # type: ignore[no-any-return]


def _usccs(hub: FairHub) -> list[str]:
    import sqlite3

    with sqlite3.connect(hub.hub.settings.demo_data_dir / "market.sqlite") as conn:
        return [r[0] for r in conn.execute("SELECT uscc FROM enterprises ORDER BY uscc LIMIT 50")]


def source_reads(hub: FairHub) -> float:
    """Calls into department sources and entity cache lookups so far, every connector and entity."""
    names = ("hub_source_calls_total", "hub_cache_hits_total", "hub_cache_misses_total")
    return sum(
        sample.value
        for metric in hub.hub.metrics.registry.collect()
        for sample in metric.samples
        if sample.name in names
    )


async def recorded_for(hub: FairHub, uscc: str, client: str) -> int:
    store = hub.hub.disclosures.store
    return sum(1 for access in await who_accessed(store, uscc) if access.client_id == client)


async def test_past_its_burst_a_client_gets_429_with_retry_after_and_nothing_runs_or_is_recorded(
    fair_hub: OpenFairHub,
) -> None:
    async with fair_hub() as hub:
        client = hub.client(unique(), ClientLimits(rate=0.5, burst=2))
        first, second, third = _usccs(hub)[:3]
        for uscc in (first, second):
            assert (await hub.send(client, ENTERPRISE, {"u": uscc})).status_code == 200
        response = await hub.send(client, ENTERPRISE, {"u": third})
        error = refused(response, 429, "RATE_LIMITED")
        assert response.headers["retry-after"] == "2"  # one token at 0.5 per second
        assert error["extensions"]["rate"] == 0.5 and error["extensions"]["burst"] == 2
        assert "0.5 requests per second" in error["message"]
        assert await recorded_for(hub, third, client) == 0
        assert await recorded_for(hub, first, client) == 1
        hub.now += 2
        assert (await hub.send(client, ENTERPRISE, {"u": third})).status_code == 200
        assert hub.refusals(client, "rate") == 1


async def test_each_client_has_its_own_bucket(fair_hub: OpenFairHub) -> None:
    async with fair_hub(with_defaults(rate=1.0, burst=1)) as hub:
        greedy, other = hub.client(unique()), hub.client(unique())
        assert (await hub.send(greedy, PAGE)).status_code == 200
        refused(await hub.send(greedy, PAGE), 429, "RATE_LIMITED")
        assert (await hub.send(other, PAGE)).status_code == 200


async def test_settings_defaults_hold_for_a_client_without_its_own_limits(fair_hub: OpenFairHub) -> None:
    async with fair_hub(with_defaults(rate=1.0, burst=3)) as hub:
        client = hub.client(unique())
        statuses = [(await hub.send(client, PAGE)).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]


async def test_an_operation_that_would_pass_the_minute_budget_is_refused_saying_what_is_left_and_when(
    fair_hub: OpenFairHub,
) -> None:
    async with fair_hub() as hub:
        cost, _ = hub.hub.documents.judged_cost(hub.hub.documents.get(PAGE), None, None)
        assert cost > 1
        client = hub.client(unique(), ClientLimits(rate=100.0, burst=100, cost_per_minute=3 * cost - 1))
        hub.now = 1_800_000_000.0 + 15  # 45 s before the minute turns
        for _ in range(2):
            assert (await hub.send(client, PAGE)).status_code == 200
        response = await hub.send(client, PAGE)
        error = refused(response, 429, "COST_BUDGET_EXCEEDED")
        assert error["extensions"] | {"requestId": None} == {
            "code": "COST_BUDGET_EXCEEDED", "budget": "cost_per_minute", "cost": cost, "limit": 3 * cost - 1,
            "left": cost - 1, "refillsAt": "2027-01-15T08:01:00Z", "requestId": None,
        }
        assert response.headers["retry-after"] == "45"
        assert f"{cost - 1} is left" in error["message"]
        hub.now += 45  # the next calendar minute
        assert (await hub.send(client, PAGE)).status_code == 200
        assert hub.refusals(client, "cost_per_minute") == 1


async def test_an_operation_over_a_cost_budget_runs_nothing_and_is_recorded_as_disclosing_nothing(
    fair_hub: OpenFairHub,
) -> None:
    async with fair_hub() as hub:
        cost, _ = hub.hub.documents.judged_cost(hub.hub.documents.get(ENTERPRISE), None, {"u": "x"})
        client = hub.client(unique(), ClientLimits(rate=100.0, burst=100, cost_per_minute=cost, cost_per_day=0))
        first, second = _usccs(hub)[:2]
        assert (await hub.send(client, ENTERPRISE, {"u": first})).status_code == 200  # exactly the budget
        reads = source_reads(hub)
        assert reads > 0
        refused(await hub.send(client, ENTERPRISE, {"u": second}), 429, "COST_BUDGET_EXCEEDED")
        assert source_reads(hub) == reads  # nothing ran: no source call, not even an entity cache lookup
        assert await recorded_for(hub, second, client) == 0
        assert await recorded_for(hub, first, client) == 1


async def test_the_day_budget_refills_at_the_city_s_midnight(fair_hub: OpenFairHub) -> None:
    async with fair_hub() as hub:
        cost, _ = hub.hub.documents.judged_cost(hub.hub.documents.get(PAGE), None, None)
        client = hub.client(unique(), ClientLimits(rate=100.0, burst=100, cost_per_day=cost))
        assert (await hub.send(client, PAGE)).status_code == 200
        hub.now += 120
        response = await hub.send(client, PAGE)
        error = refused(response, 429, "COST_BUDGET_EXCEEDED")
        # 2027-01-15 08:02 UTC is 16:02 in China Standard Time: the day ends at 16:00 UTC.
        assert error["extensions"]["refillsAt"] == "2027-01-15T16:00:00Z"
        assert response.headers["retry-after"] == str(8 * 3600 - 120)
        hub.now = 1_800_000_000.0 + 8 * 3600  # 16:00 UTC, midnight in the city
        assert (await hub.send(client, PAGE)).status_code == 200


async def test_a_cost_that_depends_on_variables_is_charged_as_this_request_asks(fair_hub: OpenFairHub) -> None:
    query = "query($n: Int!) { enterprises(first: $n) { edges { node { uscc } } } }"
    async with fair_hub() as hub:
        small, _ = hub.hub.documents.judged_cost(hub.hub.documents.get(query), None, {"n": 1})
        large, _ = hub.hub.documents.judged_cost(hub.hub.documents.get(query), None, {"n": 50})
        client = hub.client(unique(), ClientLimits(rate=100.0, burst=100, cost_per_minute=large))
        assert (await hub.send(client, query, {"n": 1})).status_code == 200
        error = refused(await hub.send(client, query, {"n": 50}), 429, "COST_BUDGET_EXCEEDED")
        assert (error["extensions"]["cost"], error["extensions"]["left"]) == (large, large - small)


async def test_an_operation_dearer_than_the_whole_budget_is_told_it_can_never_run(fair_hub: OpenFairHub) -> None:
    async with fair_hub() as hub:
        client = hub.client(unique(), ClientLimits(rate=100.0, burst=100, cost_per_minute=2))
        error = refused(await hub.send(client, PAGE), 429, "COST_BUDGET_EXCEEDED")
        assert "more than the whole budget" in error["message"]


async def test_the_subgraph_endpoints_share_the_client_s_bucket_with_graphql(fair_hub: OpenFairHub) -> None:
    async with fair_hub() as hub:
        client = hub.client(unique(), ClientLimits(rate=0.1, burst=1))
        assert (await hub.send(client, PAGE)).status_code == 200
        response = await hub.http.post(
            "/subgraphs/market/graphql", json={"query": "{ _service { sdl } }"},
            headers={"accept": "application/graphql-response+json", "x-test-client": client},
        )
        refused(response, 429, "RATE_LIMITED")


async def test_each_operation_of_a_batch_takes_its_own_token(fair_hub: OpenFairHub) -> None:
    async with fair_hub() as hub:
        client = hub.client(unique(), ClientLimits(rate=0.1, burst=2))
        response = await hub.http.post(
            "/graphql", json=[{"query": PAGE}] * 3, headers={"x-test-client": client},
        )
        answers = response.json()
        assert ["data" in a for a in answers] == [True, True, False]
        assert answers[2]["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_with_fair_use_off_nothing_is_limited(fair_hub: OpenFairHub) -> None:
    off = FairUseSettings(enabled=False, defaults=ClientLimits(rate=0.1, burst=1))
    async with fair_hub(off) as hub:
        client = hub.client(unique())
        assert [(await hub.send(client, PAGE)).status_code for _ in range(3)] == [200, 200, 200]


async def test_refusals_are_counted_per_client_and_kind_on_metrics(fair_hub: OpenFairHub) -> None:
    async with fair_hub() as hub:
        client = hub.client(unique(), ClientLimits(rate=0.1, burst=1))
        await hub.send(client, PAGE)
        for _ in range(2):
            await hub.send(client, PAGE)
        text = (await hub.http.get("/metrics")).text
        assert f'hub_fair_use_refusals_total{{client="{client}",kind="rate"}} 2.0' in text
