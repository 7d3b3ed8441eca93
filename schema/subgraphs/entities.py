"""``_entities`` that answers a malformed representation as the caller's mistake, not the hub's.

Strawberry looks a representation's ``__typename`` up unchecked: a missing one, or a name this
subgraph does not resolve, escapes as an internal error for the whole list. Here each such
representation gets its own ``BAD_USER_INPUT`` error at its index; the others resolve as usual.
An entity type outside the caller's view is, to that caller, a type this subgraph does not resolve:
the same error, word for word, and the list of entity types it names holds only those the caller sees.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.federation.schema import FederationAny
from strawberry.types.info import Info

from hub.context import RequestContext
from hub.errors import BadArgument
from schema.common import ctx
from schema.subgraphs.representations import ARGUMENT


class SubgraphSchema(strawberry.federation.Schema):
    def entities_resolver(self, info: Info, representations: list[FederationAny]) -> list[FederationAny]:
        seen = self._entity_names(ctx(info))
        refusals = {i: self._refusal(r, seen) for i, r in enumerate(representations)}
        valid = [r for i, r in enumerate(representations) if refusals[i] is None]
        resolved = iter(super().entities_resolver(info, valid))
        answers = [next(resolved) if refusal is None else refusal for refusal in refusals.values()]
        # A refusal in an entity's place is that entity's error (graphql-core reports an exception
        # in a list as the item's error, as strawberry's own resolver does): not a FederationAny.
        return answers  # type: ignore[return-value]

    def _refusal(self, representation: Any, seen: list[str]) -> BadArgument | None:
        if not isinstance(representation, dict) or not isinstance(representation.get("__typename"), str):
            return BadArgument(ARGUMENT, "each representation is an object with a __typename")
        name = representation["__typename"]
        if name not in seen:
            entities = ", ".join(seen)
            return BadArgument(ARGUMENT, f"this subgraph resolves no entity {name[:60]!r} (entities: {entities})")
        return None

    def _entity_names(self, c: RequestContext) -> list[str]:
        """The entity types this subgraph resolves that the caller's view has, sorted."""
        return sorted(name for name, t in self.schema_converter.type_map.items()
                      if hasattr(getattr(getattr(t, "definition", None), "origin", None), "resolve_reference")
                      and c.can_see(name))
