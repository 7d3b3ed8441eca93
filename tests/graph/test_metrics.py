"""Prometheus metrics at /metrics count source calls and cache hits per connector."""

from __future__ import annotations

from typing import Any

from tests.graph.conftest import HubClient


async def test_metrics_show_source_calls_and_cache_hits_and_misses(hub: HubClient, demo_db: Any) -> None:
    uscc = demo_db("market", "SELECT uscc FROM enterprises LIMIT 1")[0]["uscc"]
    for _ in range(3):
        await hub.query(f'{{ enterprise(uscc: "{uscc}") {{ name }} }}')
    text = (await hub.http.get("/metrics")).text
    assert 'hub_source_calls_total{connector="market",entity="enterprise"} 1.0' in text
    assert 'hub_cache_misses_total{connector="market"} 1.0' in text
    assert 'hub_cache_hits_total{connector="market"} 2.0' in text


async def test_metrics_show_latency_per_operation_kind_and_per_department_source(hub: HubClient, demo_db: Any) -> None:
    uscc = demo_db("market", "SELECT uscc FROM enterprises LIMIT 1")[0]["uscc"]
    await hub.query(f'{{ enterprise(uscc: "{uscc}") {{ name taxRegistration {{ status }} }} }}')
    await hub.query("{ enterprises(first: 2) { edges { node { uscc } } } }")
    await hub.query("{ nothing }")  # refused before it runs: not an executed operation
    text = (await hub.http.get("/metrics")).text
    assert 'hub_graphql_operation_seconds_count{kind="query"} 2.0' in text
    assert 'hub_graphql_operation_seconds_bucket{kind="query",le="10.0"} 2.0' in text
    assert 'hub_source_seconds_count{connector="market"} 2.0' in text  # the enterprise, then the page
    assert 'hub_source_seconds_count{connector="taxation"} 1.0' in text
    assert 'hub_source_seconds_count{connector="housing"} 0.0' in text
