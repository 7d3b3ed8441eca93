"""The shared graph: each department's part, joined on the entities they share.

``build_schema()`` returns the one strawberry schema the hub serves. Records travel through it as
plain dicts (the raw source records), read by a default resolver that indexes them, so plain
fields cost no Python beyond one lookup.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import GraphQLField, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString, Undefined
from strawberry.schema.config import StrawberryConfig
from strawberry.types.unset import UNSET
from strawberry.utils.str_converters import to_camel_case

from hub.strawberry_bridge import (
    DEFINITION_BACKREF, called_with_arguments, called_with_info, graphql_schema, is_default_resolver, looking_up,
    looking_up_argument, reads_record, record_key, relating,
)
from schema.common import SCALARS
from schema.centre import Case, CaseStage, ServiceMatter
from schema.ecology import PollutantDischargePermit
from schema.enterprise import Enterprise
from schema.housing import ConstructionPermit
from schema.licence import Licence
from schema.market import FoodBusinessLicence
from schema.person import Person
from schema.query import Query




def read_field(source: Any, name: str) -> Any:
    """Default resolver: records are dicts; anything else (none today) is read as an attribute."""
    if type(source) is dict:
        return source.get(name)
    return getattr(source, name)


def build_schema() -> strawberry.Schema:
    schema = strawberry.Schema(
        query=Query,
        types=[FoodBusinessLicence, ConstructionPermit, PollutantDischargePermit],
        config=StrawberryConfig(default_resolver=read_field, scalar_map=SCALARS),
    )
    read_plain_fields_directly(graphql_schema(schema))
    call_look_ups_directly(schema.config.info_class, graphql_schema(schema))
    call_text_look_ups_directly(schema.config.info_class, graphql_schema(schema))
    mark_look_ups_by_argument(graphql_schema(schema))
    return schema


def read_plain_fields_directly(graphql_schema: GraphQLSchema) -> None:
    """Give every plain field (no resolver, no extension) a one-call reader of its record key.

    Strawberry routes a plain field through three calls (its wrapper, ``get_result``, the default
    resolver); a list of 1,000 records with 5 fields pays that 5,000 times. The reader does the
    same lookup in one.
    """
    for named in graphql_schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        for name, field in named.fields.items():
            if is_default_resolver(field.resolve):
                field.resolve = _reader(record_key(field, name))


def call_look_ups_directly(info_class: Any, graphql_schema: GraphQLSchema) -> None:
    """Call every look-up resolver that takes only ``(root, info)`` straight from graphql-core.

    For a field with no arguments, no extensions and no permission classes, strawberry's wrapper
    converts no argument and runs nothing around the resolver: per call it builds the ``Info``, finds
    the (empty) arguments and calls through four functions. The resolver gets the same ``Info`` and
    the same root here, in one; a list of 100 licences with their holders and legal representatives
    pays it 200 times per request.
    """
    for field, definition, resolver in _fields(graphql_schema):
        if resolver is None or field.args or definition.arguments or definition.extensions:
            continue
        if getattr(definition, "permission_classes", None):
            continue
        parameters = list(inspect.signature(resolver.wrapped_func).parameters.values())
        if [p.name for p in parameters] != ["root", "info"] or any(
            p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) or p.default is not p.empty
            for p in parameters
        ):
            continue
        field.resolve = _direct(resolver.wrapped_func, definition, info_class)


def call_text_look_ups_directly(info_class: Any, graphql_schema: GraphQLSchema) -> None:
    """Call every look-up whose arguments are all required text (``enterprise(uscc:)``,
    ``person(idNumber:)``) straight from graphql-core, as ``call_look_ups_directly`` does for those
    without arguments. Strawberry passes a ``String!`` argument on as it came (nothing to convert),
    and per call builds the ``Info``, maps the arguments' names and calls through four functions:
    every B request (``enterprise(uscc:)``) paid that once, about 0.1 ms.
    """
    for field, definition, resolver in _fields(graphql_schema):
        if resolver is None or not field.args or definition.extensions:
            continue
        if getattr(definition, "permission_classes", None):
            continue
        names = _text_arguments(field, definition)
        if names is None:
            continue
        parameters = list(inspect.signature(resolver.wrapped_func).parameters.values())
        if [p.name for p in parameters] != ["info", *names.values()] or any(
            p.kind is not p.POSITIONAL_OR_KEYWORD or p.default is not p.empty for p in parameters
        ):
            continue
        field.resolve = called_with_arguments(resolver.wrapped_func, definition, info_class, names)


def _text_arguments(field: GraphQLField, definition: Any) -> dict[str, str] | None:
    """GraphQL name -> Python name of the field's arguments when each is a required ``String`` with no
    default, in the resolver's order; None otherwise."""
    arguments = list(definition.arguments)
    if len(arguments) != len(field.args):
        return None
    names: dict[str, str] = {}
    for (graphql_name, arg), argument in zip(field.args.items(), arguments, strict=True):
        plain = isinstance(arg.type, GraphQLNonNull) and arg.type.of_type is GraphQLString
        named = (argument.graphql_name or to_camel_case(argument.python_name)) == graphql_name
        if not plain or not named or argument.type is not str or argument.default is not UNSET:
            return None
        if arg.default_value is not Undefined:
            return None
        names[graphql_name] = argument.python_name
    return names


def mark_look_ups_by_argument(graphql_schema: GraphQLSchema) -> None:
    """Mark the field itself (strawberry's resolve function) of every resolver marked
    ``schema.common.by_argument``, where the compiled path reads it."""
    for field, _, resolver in _fields(graphql_schema):
        looks_up = getattr(getattr(resolver, "wrapped_func", None), "looks_up_argument", None)
        if looks_up is not None and field.resolve is not None:
            looking_up_argument(field.resolve, looks_up)


def _fields(graphql_schema: GraphQLSchema) -> Iterator[tuple[GraphQLField, Any, Any]]:
    """Every field of the schema's own object types, with its strawberry definition and resolver
    (None for a field without one)."""
    for named in graphql_schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        for field in named.fields.values():
            definition: Any = field.extensions.get(DEFINITION_BACKREF) if field.extensions else None
            yield field, definition, getattr(definition, "base_resolver", None)


def _direct(function: Any, definition: Any, info_class: Any) -> Any:
    # Not a record read: the compiled path leaves a look-up to graphql-core, unless it is one look-up by
    # a key of the record (``schema.common.look_up``): then a list's are asked at once. A resolver that
    # only reads related records by a key of the record (``schema.common.related``) stays marked so.
    resolve = called_with_info(function, definition, info_class)
    relating(resolve, getattr(function, "relates", None))
    return looking_up(resolve, getattr(function, "looks_up", None))


def _reader(name: str) -> Any:
    def read(source: Any, info: Any) -> Any:
        if type(source) is dict:
            return source.get(name)
        return getattr(source, name)

    return reads_record(read, name)  # plain: the compiled path reads the key itself


__all__ = [
    "Case", "CaseStage", "ConstructionPermit", "Enterprise", "FoodBusinessLicence", "Licence",
    "Person", "PollutantDischargePermit", "Query", "ServiceMatter", "build_schema",
]
