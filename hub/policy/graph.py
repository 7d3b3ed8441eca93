"""What the policies must classify: every field of every object type of the built graph.

Exempt: introspection types (``__Type`` ...), the root ``Query`` (its fields are look-ups; what
they return is classified type by type) and the pagination plumbing, which the graph marks
``carries_department_data = False`` (``PageInfo`` and every ``...Connection``/``...Edge``
specialisation): cursors and the nodes, which are classified themselves. Interfaces (``Licence``) are not
classified either: each concrete type implementing one classifies the inherited fields itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from graphql import GraphQLNamedType, GraphQLObjectType, GraphQLSchema, get_named_type, is_leaf_type

from hub.strawberry_bridge import DEFINITION_BACKREF, record_key


@dataclass(frozen=True, slots=True)
class GraphField:
    """A field as the policies name it: the record key (``registered_capital``), not the camelCase."""

    name: str
    graphql_name: str
    is_leaf: bool


def _origin(named: GraphQLNamedType) -> Any:
    definition = named.extensions.get(DEFINITION_BACKREF)
    if definition is None:
        return None
    concrete_of = getattr(definition, "concrete_of", None)
    return (concrete_of or definition).origin


def is_exempt(named: GraphQLNamedType, schema: GraphQLSchema) -> bool:
    if named.name.startswith("__") or named is schema.query_type:
        return True
    return getattr(_origin(named), "carries_department_data", True) is False


def _fields_of(named: GraphQLObjectType) -> Mapping[str, GraphField]:
    fields: dict[str, GraphField] = {}
    for graphql_name, field in named.fields.items():
        name = record_key(field, graphql_name)
        fields[name] = GraphField(name, graphql_name, is_leaf_type(get_named_type(field.type)))
    return MappingProxyType(fields)


def classifiable_types(schema: GraphQLSchema) -> Mapping[str, Mapping[str, GraphField]]:
    """Type name -> its fields keyed by record key, for every object type a policy must cover."""
    return MappingProxyType(
        {
            name: _fields_of(named)
            for name, named in schema.type_map.items()
            if isinstance(named, GraphQLObjectType) and not is_exempt(named, schema)
        }
    )
