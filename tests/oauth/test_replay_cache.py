"""The replay cache contract, over the in-process cache and Redis alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from hub.oauth.replay import MemoryReplayCache, RedisReplayCache, ReplayCache


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[ReplayCache]:
    if request.param == "memory":
        made: ReplayCache = MemoryReplayCache()
    else:
        made = RedisReplayCache(
            request.getfixturevalue("redis_url"), prefix=request.getfixturevalue("redis_prefix")
        )
    yield made
    await made.aclose()


async def test_a_value_is_accepted_once(cache: ReplayCache) -> None:
    assert await cache.first_use("dpop:k:jti-1", 60) is True
    assert await cache.first_use("dpop:k:jti-1", 60) is False
    assert await cache.first_use("dpop:k:jti-2", 60) is True


async def test_concurrent_first_uses_admit_exactly_one(cache: ReplayCache) -> None:
    results = await asyncio.gather(*(cache.first_use("assertion:c:same", 60) for _ in range(20)))
    assert results.count(True) == 1


async def test_a_value_is_forgotten_after_its_time_to_live(cache: ReplayCache) -> None:
    assert await cache.first_use("dpop:k:short", 1) is True
    await asyncio.sleep(1.2)
    assert await cache.first_use("dpop:k:short", 1) is True
