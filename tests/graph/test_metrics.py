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
