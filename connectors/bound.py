"""What every connector kind shares: its binding, its identity and its entity look-ups."""

from __future__ import annotations

from collections.abc import Sequence

from connectors.base import UnsupportedQuery
from connectors.binding import Binding, BindingError, EntityBinding, Kind


class BoundConnector:
    """The binding-derived half of a connector; each kind adds how it reaches its source."""

    kind: Kind

    def __init__(self, binding: Binding) -> None:
        if binding.source.kind != self.kind:
            raise BindingError(binding.file, f"kind {binding.source.kind!r} is not {self.kind!r}")
        self.binding = binding
        self.name = self.department = binding.department
        self.timeout = float(binding.source.timeout)
        self.cache_ttl = float(binding.source.cache_ttl)

    def entities(self) -> Sequence[str]:
        return tuple(self.binding.entities)

    def key_of(self, entity: str) -> str:
        return self._entity(entity).key

    def _entity(self, entity: str) -> EntityBinding:
        bound = self.binding.entities.get(entity)
        if bound is None:
            raise UnsupportedQuery(self.department, f"no entity {entity!r} in the binding")
        return bound
