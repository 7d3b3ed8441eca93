"""The scope catalogue: which scopes exist, derived from the department bindings.

For now one scope per (department, entity) at the ``read`` level, ``<department>.<entity>:read``
(``market.enterprise:read``). The policies will add finer levels (``market.enterprise.legal_rep:read``)
here; a scope that is not in the catalogue cannot be allowed to a client nor carried by a token
that reaches the graph. Nobody invents a scope.
"""

from __future__ import annotations

from pathlib import Path

from connectors.binding import load_bindings


def scope(department: str, entity: str, level: str = "read") -> str:
    return f"{department}.{entity}:{level}"


def scope_catalogue(bindings_dir: Path) -> frozenset[str]:
    return frozenset(
        scope(department, entity)
        for department, binding in load_bindings(bindings_dir).items()
        for entity in binding.entities
    )
