"""The replay cache: a value (a DPoP proof's or a client assertion's ``jti``) is accepted once.

One small protocol, two implementations with one contract test: in-process (one hub process)
and Redis (``HUB_REPLAY_CACHE_URL=redis://...``, shared by every replica; ``SET NX PX`` makes
the first use atomic across them).
"""

from __future__ import annotations

import time
from typing import Protocol

from redis.asyncio import Redis


class ReplayCache(Protocol):
    async def first_use(self, key: str, ttl: float) -> bool:
        """True the first time ``key`` is seen within ``ttl`` seconds, False on every reuse."""
        ...

    async def aclose(self) -> None: ...


class MemoryReplayCache:
    def __init__(self, max_entries: int = 1_000_000) -> None:
        self._seen: dict[str, float] = {}
        self._max_entries = max_entries

    async def first_use(self, key: str, ttl: float) -> bool:
        now = time.monotonic()
        expiry = self._seen.get(key)
        if expiry is not None and expiry > now:
            return False
        if len(self._seen) >= self._max_entries:
            self._seen = {k: v for k, v in self._seen.items() if v > now}
        self._seen[key] = now + max(ttl, 1.0)
        return True

    async def aclose(self) -> None:
        self._seen.clear()


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
