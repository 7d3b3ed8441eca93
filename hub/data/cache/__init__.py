"""The cross-request entity cache: raw source records, never policy-shaped results.

Entries are addressed by a namespace ``connector:entity:field`` and the key value, and hold the
list of raw records whose ``field`` equals the key (an empty list records a known absence).
Policy is applied on read, per caller, so one cache serves every department without leaking.
"""

from __future__ import annotations

from hub.data.cache.base import EntityCache, namespace_of
from hub.data.cache.bypass import Bypassable
from hub.data.cache.memory import MemoryEntityCache
from hub.data.cache.redis import RedisEntityCache


def build_cache(
    url: str, *, prefix: str = "hub:cache:", max_entries: int = 200_000, timeout: float | None = None
) -> EntityCache:
    if url == "memory":
        return MemoryEntityCache(max_entries=max_entries)
    return RedisEntityCache(url, prefix=prefix, timeout=timeout)


__all__ = ["Bypassable", "EntityCache", "MemoryEntityCache", "RedisEntityCache", "build_cache", "namespace_of"]
