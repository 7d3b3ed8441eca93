"""The signing keys as the verifiers see them: published keys cached briefly, refreshed on a miss.

A rotation made by another process (``hub registry rotate-signing-keys``) is picked up within
``ttl`` seconds, or at once when a token names a kid not yet seen; misses reload at most once a
second, so unknown kids cannot turn into a database load.
"""

from __future__ import annotations

import time
from typing import Any

from hub.store import SigningKey, SigningKeys


class KeyRing:
    def __init__(self, keys: SigningKeys, ttl: float = 30.0) -> None:
        self.store = keys
        self._ttl = ttl
        self._keys: list[SigningKey] = []
        self._loaded = float("-inf")
        self.miss_interval = 1.0  # seconds between reloads caused by unknown kids

    async def published(self, now: int) -> list[SigningKey]:
        if time.monotonic() - self._loaded > self._ttl:
            await self.reload()
        cutoff = now - self.store.retention
        return [k for k in self._keys if k.state != "retired" or (k.retired_at or 0) > cutoff]

    async def public_key(self, kid: str, now: int) -> dict[str, Any] | None:
        key = self._find(await self.published(now), kid)
        if key is None and time.monotonic() - self._loaded > self.miss_interval:
            await self.reload()
            key = self._find(await self.published(now), kid)
        return key.public if key is not None else None

    async def reload(self) -> None:
        self._keys = await self.store.keys(now=0)  # filtered per call, by the caller's clock
        self._loaded = time.monotonic()

    @staticmethod
    def _find(keys: list[SigningKey], kid: str) -> SigningKey | None:
        return next((k for k in keys if k.kid == kid), None)
