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


async def test_the_in_process_cache_fails_closed_at_its_cap_and_frees_room_as_values_expire(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hub.oauth import replay

    now = {"t": 1000.0}
    monkeypatch.setattr(replay.time, "monotonic", lambda: now["t"])
    cache = MemoryReplayCache(max_entries=2)
    assert await cache.first_use("a", 10) and await cache.first_use("b", 60)
    assert await cache.first_use("c", 60) is False  # full: refused, not accepted unrecorded
    assert await cache.first_use("a", 10) is False
    now["t"] += 11  # "a" expired: its room is free again, "b" is still remembered
    assert await cache.first_use("c", 60) is True
    assert await cache.first_use("b", 60) is False
