"""The replay cache: a value (a DPoP proof's ``jti``) is accepted once.

(Client assertion ``jti``s are recorded in the registry database instead, ``Registry.first_use_assertion``,
so every replica sharing the registry shares them without Redis.)

One small protocol, two implementations with one contract test: in-process (one hub process)
and Redis (``HUB_REPLAY_CACHE_URL=redis://...``, shared by every replica; ``SET NX PX`` makes
the first use atomic across them).
"""

from __future__ import annotations

import heapq
import time
from typing import Protocol

from redis.asyncio import Redis


class ReplayCache(Protocol):
    async def first_use(self, key: str, ttl: float) -> bool:
        """True the first time ``key`` is seen within ``ttl`` seconds, False on every reuse."""
        ...

    async def aclose(self) -> None: ...


class MemoryReplayCache:
    """In-process: a dict of expiries and a heap ordered by expiry, so expired entries are pruned
    from the heap's head (O(log n) each) rather than by scanning. At ``max_entries`` live values it
    fails closed: a new value is refused (never accepted unrecorded) until older ones expire."""

    def __init__(self, max_entries: int = 1_000_000) -> None:
        self._seen: dict[str, float] = {}
        self._expiries: list[tuple[float, str]] = []
        self._max_entries = max_entries

    async def first_use(self, key: str, ttl: float) -> bool:
        now = time.monotonic()
        self._prune(now)
        if key in self._seen:
            return False
        if len(self._seen) >= self._max_entries:
            return False  # full of live values: refuse rather than forget one
        expiry = now + max(ttl, 1.0)
        self._seen[key] = expiry
        heapq.heappush(self._expiries, (expiry, key))
        return True

    def _prune(self, now: float) -> None:
        while self._expiries and self._expiries[0][0] <= now:
            expiry, key = heapq.heappop(self._expiries)
            if self._seen.get(key) == expiry:
                del self._seen[key]

    async def aclose(self) -> None:
        self._seen.clear()
        self._expiries.clear()


class RedisReplayCache:
    def __init__(self, url: str, *, prefix: str = "hub:replay:") -> None:
        self._redis = Redis.from_url(url)
        self._prefix = prefix

    async def first_use(self, key: str, ttl: float) -> bool:
        stored = await self._redis.set(self._prefix + key, b"1", nx=True, px=max(1000, int(ttl * 1000)))
        return bool(stored)

    async def aclose(self) -> None:
        await self._redis.aclose()


def build_replay_cache(url: str, *, prefix: str = "hub:replay:") -> ReplayCache:
    return MemoryReplayCache() if url == "memory" else RedisReplayCache(url, prefix=prefix)
