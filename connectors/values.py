"""Department codes to graph values: a binding's ``values`` tables, applied around any connector.

Departments record states in their own words (有效, 存续, 已竣工); the graph has one vocabulary
(``VALID``, ``IN_OPERATION``, ``EXPIRED``). Records are translated on the way in, conditions on
the way out: ``status = VALID`` asks the source for every word that means VALID.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.base import Condition, Connector, Op, Page, Record, UnsupportedQuery
from connectors.binding import Binding


class ValueMapped:
    """A connector whose records and conditions go through the binding's value maps."""

    def __init__(self, inner: Connector, binding: Binding) -> None:
        self.inner = inner
        self.name = inner.name
        self.department = inner.department
        self._maps = {name: e.values for name, e in binding.entities.items() if e.values}
        self._reverse = {
            entity: {f: _reverse(m) for f, m in maps.items()} for entity, maps in self._maps.items()
        }

    @property
    def timeout(self) -> float:
        return self.inner.timeout

    @timeout.setter
    def timeout(self, value: float) -> None:
        self.inner.timeout = value

    @property
    def cache_ttl(self) -> float:
        return self.inner.cache_ttl

    @cache_ttl.setter
    def cache_ttl(self, value: float) -> None:
        self.inner.cache_ttl = value

    def entities(self) -> Sequence[str]:
        return self.inner.entities()

    def key_of(self, entity: str) -> str:
        return self.inner.key_of(entity)

    def supports(self, entity: str, field: str, op: Op) -> bool:
        if field in self._maps.get(entity, {}) and op not in ("eq", "in"):
            return False
        return self.inner.supports(entity, field, op)

    async def fetch(self, entity: str, field: str, keys: Sequence[Any]) -> list[Record]:
        reverse = self._reverse.get(entity, {}).get(field)
        if reverse is not None:
            keys = [word for key in keys for word in reverse.get(key, ())]
            if not keys:
                return []
        return self._decode(entity, await self.inner.fetch(entity, field, keys))

    async def select(self, entity: str, where: Sequence[Condition], page: Page) -> list[Record]:
        reverse = self._reverse.get(entity, {})
        if page.order_by in reverse:
            raise UnsupportedQuery(self.department, f"cannot order by the coded field {page.order_by!r}")
        encoded = [self._encode(c, reverse.get(c.field)) for c in where]
        if any(c.op == "in" and not c.value for c in encoded):
            return []  # a value no department word means: no record can match
        return self._decode(entity, await self.inner.select(entity, encoded, page))

    async def aclose(self) -> None:
        await self.inner.aclose()

    def _encode(self, condition: Condition, reverse: Mapping[str, tuple[str, ...]] | None) -> Condition:
        if reverse is None:
            return condition
        if condition.op not in ("eq", "in"):
            raise UnsupportedQuery(self.department, f"{condition.field!r} can only be compared for equality")
        values = [condition.value] if condition.op == "eq" else list(condition.value)
        return Condition(condition.field, "in", [word for v in values for word in reverse.get(v, ())])

    def _decode(self, entity: str, records: list[Record]) -> list[Record]:
        # Field by field, then record by record: a page of 1,000 records pays one loop per coded field.
        for field, mapping in self._maps.get(entity, {}).items():
            get = mapping.get
            for record in records:  # fresh from the source: nobody else holds them yet
                value = record.get(field)
                if isinstance(value, str):
                    record[field] = get(value, value)
        return records


def _reverse(mapping: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    reverse: dict[str, list[str]] = {}
    for word, value in mapping.items():
        reverse.setdefault(value, []).append(word)
    return {value: tuple(words) for value, words in reverse.items()}
