"""The one small async protocol every department source sits behind.

A connector speaks to one department's system (a SQL database, a REST API, a GraphQL service) and
returns *raw records*: plain ``dict``s keyed by the graph's field names (the binding maps the
department's own names to them), values JSON-ready (str, int, float, bool, None; dates as ISO
strings). Connectors know nothing of callers, policies or caches: those live above them.

Errors a connector raises are ``SourceError``: ``side`` says whether the department's system
(``"provider"``) or the hub (``"hub"``) failed, so a client can tell whom to call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from hub.errors import Unavailable

Record = dict[str, Any]
Op = Literal["eq", "in", "prefix", "gte", "lte"]
Side = Literal["provider", "hub"]


@dataclass(frozen=True, slots=True)
class Condition:
    """One filter on a record field: ``field op value``; ``in`` takes a sequence, ``prefix`` a str."""

    field: str
    op: Op
    value: Any


@dataclass(frozen=True, slots=True)
class Page:
    """Keyset pagination: records ordered by ``order_by`` (unique) strictly after ``after``.

    ``fields``: the record fields the caller will read (None: all of them); a connector may return
    more fields than these, never fewer (a SQL source selects only their columns).
    """

    order_by: str
    limit: int
    after: Any = None
    fields: frozenset[str] | None = None


class SourceError(Unavailable):
    """A department source could not answer; ``side`` says who failed."""

    code = "SOURCE_UNAVAILABLE"

    def __init__(self, department: str, side: Side, reason: str) -> None:
        self.department = department
        self.side = side
        self.reason = reason
        super().__init__(f"{department}: {side} failed: {reason}")


class UnsupportedQuery(SourceError):
    """The binding has no way to ask this source for what was asked (a hub-side gap)."""

    def __init__(self, department: str, reason: str) -> None:
        super().__init__(department, "hub", reason)


@runtime_checkable
class Connector(Protocol):
    """A department source. ``fetch`` is the batched lookup behind every entity loader."""

    name: str
    department: str
    timeout: float
    cache_ttl: float

    def entities(self) -> Sequence[str]:
        """Entity names this source serves (e.g. ``enterprise``, ``food_licence``)."""
        ...

    def key_of(self, entity: str) -> str:
        """The entity's unique key field."""
        ...

    def supports(self, entity: str, field: str, op: Op) -> bool:
        """Whether ``select`` can push ``field op value`` into the source query."""
        ...

    async def fetch(self, entity: str, field: str, keys: Sequence[Any]) -> list[Record]:
        """All records whose ``field`` is one of ``keys``, in one source call."""
        ...

    async def select(self, entity: str, where: Sequence[Condition], page: Page) -> list[Record]:
        """Records matching every condition, ordered by ``page.order_by``, at most ``page.limit``."""
        ...

    async def aclose(self) -> None: ...
