"""The entity cache's Redis down or hanging costs speed, not answers: the departments are read
directly, the bypass is counted in ``/metrics`` and logged once per outage, not per request."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults.proxy import FaultyProxy, proxied
from tests.graph.conftest import DepartmentServices, HubClient, hub_settings, open_hub

pytestmark = pytest.mark.redis
QUERY = """{ licences(first: 5) { edges { node { number holder { uscc name legalRepresentative { name } } } } } }"""


@pytest.fixture
def cache_proxy(redis_url: str) -> Iterator[FaultyProxy]:
    with proxied("127.0.0.1", 6379) as proxy:
        yield proxy


@pytest.fixture
async def cached_hub(
    demo_data_dir: Path, services: DepartmentServices, cache_proxy: FaultyProxy,
    redis_url: str, redis_prefix: str,
) -> AsyncIterator[HubClient]:
    settings = hub_settings(
        demo_data_dir, services.ecology.url, services.security.url,
        cache_url=cache_proxy.url(redis_url), cache_prefix=redis_prefix, redis_timeout=0.3,
    )
    async with open_hub(settings) as client:
        yield client


def holders(result: dict[str, Any]) -> list[Any]:
    return [edge["node"]["holder"] for edge in result["data"]["licences"]["edges"]]


async def test_with_the_cache_down_every_field_still_comes_from_the_departments(
    cached_hub: HubClient, cache_proxy: FaultyProxy, caplog: pytest.LogCaptureFixture,
) -> None:
    expected = await cached_hub.query(QUERY)
    assert "errors" not in expected and all(holders(expected))
    cache_proxy.refuse()
    with caplog.at_level(logging.WARNING):
        answers = [await cached_hub.query(QUERY) for _ in range(5)]
    for answer in answers:
        assert answer == expected
    assert cached_hub.hub.metrics.value("hub_cache_bypassed_total") >= 5
    outage_lines = [r for r in caplog.records if "entity cache" in r.getMessage()]
    assert len(outage_lines) == 1, [r.getMessage() for r in outage_lines]
    assert not any(r.exc_info for r in caplog.records)


async def test_with_the_cache_hanging_requests_do_not_wait_on_it_each_time(
    cached_hub: HubClient, cache_proxy: FaultyProxy,
) -> None:
    expected = await cached_hub.query(QUERY)
    cache_proxy.freeze()
    started = time.monotonic()
    answers = [await cached_hub.query(QUERY) for _ in range(5)]
    waited = time.monotonic() - started
    assert all(answer == expected for answer in answers)
    assert waited < 3.0, f"five requests took {waited:.1f} s with redis_timeout = 0.3 s"


async def test_the_cache_is_used_again_once_it_is_back(cached_hub: HubClient, cache_proxy: FaultyProxy) -> None:
    await cached_hub.query(QUERY)
    cache_proxy.refuse()
    await cached_hub.query(QUERY)
    cache_proxy.restore()
    time.sleep(1.1)  # past the pause the cache is given after a failure
    await cached_hub.query(QUERY)
    hits = cached_hub.hub.metrics.value("hub_cache_hits_total", connector="market")
    await cached_hub.query(QUERY)
    assert cached_hub.hub.metrics.value("hub_cache_hits_total", connector="market") > hits
