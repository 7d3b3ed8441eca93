"""Each department's part of the graph as a Federation v2.7 subgraph (``build_subgraph``).

The hub serves them at ``/subgraphs/<department>/graphql`` so that a city that outgrows one hub can
put Apollo Gateway, Apollo Router or Hive Gateway in front; their SDL is kept in
``schema/<department>.graphql`` (``hub federation sdl --write``).
"""

from __future__ import annotations

from typing import Final

import strawberry
from strawberry.printer import print_schema
from strawberry.schema.config import StrawberryConfig

from schema import pagination as graph_pagination
from schema import read_field
from schema.common import SCALARS
from schema.query import Query
from schema.subgraphs import pagination
from schema.subgraphs.departments import PARTS
from schema.subgraphs.entities import SubgraphSchema
from schema.subgraphs.parts import Projection

FEDERATION_VERSION: Final = "2.7"
DEPARTMENTS = tuple(PARTS)


def build_subgraph(department: str) -> SubgraphSchema:
    projection = Projection(PARTS[department], {graph_pagination.Connection: pagination.Connection})
    types = projection.build()
    query = projection.types.get(Query)
    return SubgraphSchema(
        query=query,
        types=[t for t in types if t is not query],
        config=StrawberryConfig(default_resolver=read_field, scalar_map=SCALARS),
        federation_version=FEDERATION_VERSION,
    )


def subgraph_sdl(schema: strawberry.federation.Schema) -> str:
    """The SDL a gateway reads from ``_service { sdl }``, as checked in under ``schema/``."""
    return print_schema(schema) + "\n"


__all__ = ["DEPARTMENTS", "FEDERATION_VERSION", "build_subgraph", "subgraph_sdl"]
