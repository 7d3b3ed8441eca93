"""The replay cache contract, over the in-process cache and Redis alike."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from hub.oauth.replay import IssuedBeforeEpoch, MemoryReplayCache, RedisReplayCache, ReplayCache



def issued() -> int:
    """A proof's iat now: after the epoch of a store made a moment ago (whole seconds, so + 1)."""
    return int(time.time()) + 1


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
    assert await cache.first_use("dpop:k:jti-1", 60, issued()) is True
    assert await cache.first_use("dpop:k:jti-1", 60, issued()) is False
    assert await cache.first_use("dpop:k:jti-2", 60, issued()) is True


async def test_concurrent_first_uses_admit_exactly_one(cache: ReplayCache) -> None:
    results = await asyncio.gather(*(cache.first_use("assertion:c:same", 60, issued()) for _ in range(20)))
    assert results.count(True) == 1


async def test_a_value_is_forgotten_after_its_time_to_live(cache: ReplayCache) -> None:
    assert await cache.first_use("dpop:k:short", 1, issued()) is True
    await asyncio.sleep(1.2)
    assert await cache.first_use("dpop:k:short", 1, issued()) is True


async def test_the_in_process_cache_fails_closed_at_its_cap_and_frees_room_as_values_expire(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hub.oauth import replay

    now = {"t": 1000.0}
    monkeypatch.setattr(replay.time, "monotonic", lambda: now["t"])
    cache = MemoryReplayCache(max_entries=2)
    assert await cache.first_use("a", 10, issued()) and await cache.first_use("b", 60, issued())
    assert await cache.first_use("c", 60, issued()) is False  # full: refused, not accepted unrecorded
    assert await cache.first_use("a", 10, issued()) is False
    now["t"] += 11  # "a" expired: its room is free again, "b" is still remembered
    assert await cache.first_use("c", 60, issued()) is True
    assert await cache.first_use("b", 60, issued()) is False


async def test_a_value_issued_before_the_stores_epoch_is_refused_even_unseen(cache: ReplayCache) -> None:
    assert await cache.first_use("dpop:k:new", 60, issued()) is True
    with pytest.raises(IssuedBeforeEpoch):
        await cache.first_use("dpop:k:old", 60, issued() - 120)


async def test_a_value_that_is_not_valid_unicode_text_is_accepted_once(cache: ReplayCache) -> None:
    # A proof's jti is JSON text, which may hold a lone surrogate (``"\ud800"``): a value like any other.
    assert await cache.first_use("dpop:k:jti-\ud800", 60, issued()) is True
    assert await cache.first_use("dpop:k:jti-\ud800", 60, issued()) is False
    assert await cache.first_use("dpop:k:jti-\udc00", 60, issued()) is True
    assert await cache.first_use("dpop:k:jti-?", 60, issued()) is True


async def test_a_redis_that_answers_one_proof_late_is_unavailable_not_a_replay(
    redis_url: str, redis_prefix: str
) -> None:
    """A first use whose reply comes after the timeout may have been recorded: sending it once more
    would find its own jti and call a fresh proof replayed. The answer is 503, never a refusal."""
    from redis.asyncio.connection import parse_url

    target = parse_url(redis_url)
    replies: list[int] = []

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(target.get("host"), target.get("port", 6379))
        connection = len(replies)
        replies.append(0)

        async def forward(source: asyncio.StreamReader, sink: asyncio.StreamWriter, late: bool) -> None:
            while data := await source.read(65536):
                if late:
                    replies[connection] += 1
                    if connection == 0 and replies[connection] == 2:  # the first connection's first EVALSHA
                        await asyncio.sleep(0.6)
                sink.write(data)
            sink.close()

        await asyncio.gather(forward(reader, upstream_writer, False), forward(upstream_reader, writer, True),
                             return_exceptions=True)

    server = await asyncio.start_server(relay, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    db = target.get("db") or 0
    cache = RedisReplayCache(f"redis://127.0.0.1:{port}/{db}", prefix=redis_prefix, timeout=0.3)
    try:
        from hub.faults.outage import DependencyUnavailable

        with pytest.raises(DependencyUnavailable):
            await cache.first_use("dpop:k:late", 60, issued())
    finally:
        await cache.aclose()
        server.close()
