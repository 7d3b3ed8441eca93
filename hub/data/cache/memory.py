from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence

from hub.data.cache.base import Records


class MemoryEntityCache:
    """In-process LRU with expiry: the embedded default for one hub process."""

    def __init__(self, *, max_entries: int = 200_000) -> None:
        self._entries: OrderedDict[tuple[str, str], tuple[float, Records]] = OrderedDict()
        self._max = max_entries
        self._now = time.monotonic

    async def get_many(self, namespace: str, keys: Sequence[str]) -> dict[str, Records]:
        now = self._now()
        found: dict[str, Records] = {}
        entries = self._entries
        for key in keys:
            slot = (namespace, key)
            entry = entries.get(slot)
            if entry is None:
                continue
            if entry[0] <= now:
                del entries[slot]
                continue
            entries.move_to_end(slot)
            found[key] = entry[1]
        return found

    async def set_many(self, namespace: str, entries: Mapping[str, Records], ttl: float) -> None:
        if ttl <= 0:
            return
        expires = self._now() + ttl
        store = self._entries
        for key, records in entries.items():
            store[(namespace, key)] = (expires, records)
            store.move_to_end((namespace, key))
        while len(store) > self._max:
            store.popitem(last=False)

    async def invalidate(self, namespace: str, keys: Sequence[str]) -> int:
        return sum(self._entries.pop((namespace, key), None) is not None for key in keys)

    async def clear(self, namespace_prefix: str = "") -> int:
        doomed = [slot for slot in self._entries if slot[0].startswith(namespace_prefix)]
        for slot in doomed:
            del self._entries[slot]
        return len(doomed)

    async def aclose(self) -> None:
        self._entries.clear()
