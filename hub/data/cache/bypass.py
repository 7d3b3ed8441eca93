"""The entity cache as an optimisation: when its store fails, requests go to the departments.

``Bypassable`` wraps any ``EntityCache``. A read that fails is a miss, a write that fails is
skipped; each bypassed call is counted (``hub_cache_bypassed_total``), and the outage is logged
once when it starts and once when it ends, never per request. After a failure the store is left
alone for ``pause`` seconds, so a hanging Redis costs one request its timeout, not every request.
Invalidation and clearing are not bypassed: an operator dropping a corrected record must learn
that it did not happen.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence

from hub.data.cache.base import EntityCache, Records
from hub.faults.outage import outage_of
from hub.metrics import Metrics

log = logging.getLogger("hub.cache")


class Bypassable:
    def __init__(self, cache: EntityCache, metrics: Metrics, *, pause: float = 1.0) -> None:
        self.cache = cache
        self._bypassed = metrics.cache_bypassed
        self._pause = pause
        self._down_until: float | None = None  # None: working; else skip the store until then

    async def get_many(self, namespace: str, keys: Sequence[str]) -> dict[str, Records]:
        if self._skipping():
            self._bypassed.inc()
            return {}
        try:
            found = await self.cache.get_many(namespace, keys)
        except Exception as exc:  # noqa: BLE001  a failing cache costs speed, never an answer
            self._failed(exc)
            return {}
        self._working()
        return found

    async def set_many(self, namespace: str, entries: Mapping[str, Records], ttl: float) -> None:
        if self._skipping():
            self._bypassed.inc()
            return
        try:
            await self.cache.set_many(namespace, entries, ttl)
        except Exception as exc:  # noqa: BLE001  a failing cache costs speed, never an answer
            self._failed(exc)

    async def invalidate(self, namespace: str, keys: Sequence[str]) -> int:
        return await self.cache.invalidate(namespace, keys)

    async def clear(self, namespace_prefix: str = "") -> int:
        return await self.cache.clear(namespace_prefix)

    async def aclose(self) -> None:
        await self.cache.aclose()

    def _skipping(self) -> bool:
        return self._down_until is not None and time.monotonic() < self._down_until

    def _failed(self, exc: Exception) -> None:
        if outage_of(exc) is None:
            raise exc  # a bug, not an outage: let it show
        self._bypassed.inc()
        if self._down_until is None:
            log.warning("entity cache unavailable (%s: %s): reading the departments directly until it is back",
                        type(exc).__name__, str(exc).splitlines()[0][:200] if str(exc) else "")
        self._down_until = time.monotonic() + self._pause

    def _working(self) -> None:
        if self._down_until is not None:
            log.warning("entity cache back: cached reads resumed")
            self._down_until = None
