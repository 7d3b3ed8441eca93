from __future__ import annotations

from collections.abc import Mapping, Sequence

import orjson
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from hub.data.cache.base import Records


class RedisEntityCache:
    """Shared cache for several hub replicas: one Redis string per entry, expiry by Redis."""

    def __init__(self, url: str, *, prefix: str = "hub:cache:", timeout: float | None = None) -> None:
        # No retries with backoff: a failed call is a miss at once (``Bypassable``), not a wait.
        self._redis = Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        )
        self._prefix = prefix

    def _key(self, namespace: str, key: str) -> str:
        return f"{self._prefix}{namespace}:{key}"

    async def get_many(self, namespace: str, keys: Sequence[str]) -> dict[str, Records]:
        if not keys:
            return {}
        values = await self._redis.mget([self._key(namespace, k) for k in keys])
        return {k: orjson.loads(v) for k, v in zip(keys, values, strict=True) if v is not None}

    async def set_many(self, namespace: str, entries: Mapping[str, Records], ttl: float) -> None:
        if ttl <= 0 or not entries:
            return
        millis = max(1, int(ttl * 1000))
        async with self._redis.pipeline(transaction=False) as pipe:
            for key, records in entries.items():
                pipe.set(self._key(namespace, key), orjson.dumps(records), px=millis)
            await pipe.execute()

    async def invalidate(self, namespace: str, keys: Sequence[str]) -> int:
        if not keys:
            return 0
        return int(await self._redis.delete(*[self._key(namespace, k) for k in keys]))

    async def clear(self, namespace_prefix: str = "") -> int:
        removed = 0
        batch: list[bytes] = []
        pattern = _glob_escape(f"{self._prefix}{namespace_prefix}") + "*"
        async for name in self._redis.scan_iter(match=pattern, count=500):
            batch.append(name)
            if len(batch) >= 500:
                removed += int(await self._redis.delete(*batch))
                batch.clear()
        if batch:
            removed += int(await self._redis.delete(*batch))
        return removed

    async def aclose(self) -> None:
        await self._redis.aclose()


def _glob_escape(text: str) -> str:
    """Redis MATCH patterns are globs: a prefix's own *, ?, [ and \\ must match themselves."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)
