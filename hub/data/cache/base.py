from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

Records = list[dict[str, Any]]


def namespace_of(connector: str, entity: str, field: str) -> str:
    return f"{connector}:{entity}:{field}"


@runtime_checkable
class EntityCache(Protocol):
    """Raw records by (namespace, key) with a per-entry time to live.

    Callers must treat returned records as read-only: the in-process cache hands out the stored
    objects themselves (no copy on the hot path).
    """

    async def get_many(self, namespace: str, keys: Sequence[str]) -> dict[str, Records]:
        """The entries present and fresh; absent keys are simply missing from the result."""
        ...

    async def set_many(self, namespace: str, entries: Mapping[str, Records], ttl: float) -> None: ...

    async def invalidate(self, namespace: str, keys: Sequence[str]) -> int:
        """Drop entries by key; returns how many existed."""
        ...

    async def clear(self, namespace_prefix: str = "") -> int:
        """Drop every entry whose namespace starts with the prefix; returns how many."""
        ...

    async def aclose(self) -> None: ...
