"""The one module that reaches into strawberry's private attributes.

strawberry builds a graphql-core schema and keeps it as ``Schema._schema``; the hub compiles its
per-caller views, its catalogue and its subgraphs from that schema, and a view must carry the
strawberry schema back (``_strawberry_schema``) for strawberry's resolvers to find their types.
A resolver's ``Info`` wraps graphql-core's (``_raw_info``), which the disclosure note reads; the
default resolver strawberry puts on plain fields is marked ``_is_default``; a resolver the hub calls
straight from graphql-core gets an ``Info`` built from those private fields.
Neither attribute is public API: a strawberry upgrade that renames one breaks here, and only here.
"""

from __future__ import annotations

import strawberry
from collections.abc import Callable, Mapping
from typing import Any, Protocol, cast

from graphql import GraphQLField, GraphQLResolveInfo, GraphQLSchema
from strawberry.schema.schema_converter import GraphQLCoreConverter

# The key under which strawberry leaves a field's or a type's definition in graphql-core extensions.
DEFINITION_BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF


def graphql_schema(schema: strawberry.Schema | GraphQLSchema) -> GraphQLSchema:
    """The graphql-core schema strawberry built (a graphql-core schema is returned as it is)."""
    if isinstance(schema, GraphQLSchema):
        return schema
    return schema._schema  # noqa: SLF001  the bridge


def carry_strawberry_schema(view: GraphQLSchema, base: GraphQLSchema) -> None:
    """Let strawberry's resolvers, run on ``view``, find the strawberry schema ``base`` came from."""
    # graphql-core's GraphQLSchema declares no such attribute: strawberry sets it on the schemas it
    # builds, and so must the bridge on a view (the one ignore strawberry's private field needs).
    view._strawberry_schema = getattr(base, "_strawberry_schema", None)  # type: ignore[attr-defined]  # noqa: SLF001


def graphql_core_info(info: Any) -> GraphQLResolveInfo[Any]:
    """graphql-core's resolve info behind a strawberry ``Info`` (graphql-core's own is returned as it is)."""
    raw: GraphQLResolveInfo[Any] = getattr(info, "_raw_info", info)
    return raw


def is_default_resolver(resolve: object) -> bool:
    """Whether strawberry gave a field its default resolver (a plain field: no resolver of its own)."""
    return getattr(resolve, "_is_default", False) is True


def record_key(field: GraphQLField, graphql_name: str) -> str:
    """The record key a GraphQL field reads and the policies name: strawberry's Python name for it
    (``registered_capital`` for ``registeredCapital``); a field strawberry did not make keeps its name."""
    definition = field.extensions.get(DEFINITION_BACKREF)
    return graphql_name if definition is None else str(definition.python_name)


class RecordRead(Protocol):
    """A resolve function that reads one key of its source record, ``record_key``, so the compiled
    path (``hub.graphql.compiled``) may read the key itself; ``record_mask``: the read also applies
    the view's mask, which the compiled path then calls instead of reading the key."""

    record_key: str
    record_mask: bool

    def __call__(self, source: Any, info: Any, /) -> Any: ...


def reads_record(read: Callable[[Any, Any], Any], key: str, *, masked: bool = False) -> RecordRead:
    """``read`` marked as reading ``key`` of its source record (``RecordRead``)."""
    marked = cast(RecordRead, read)
    marked.record_key = key
    marked.record_mask = masked
    return marked


class LookUpRead(Protocol):
    """A resolve function that looks one record up by a key of its source (``schema.common.look_up``):
    ``looks_up`` is ``(type name, key)``, so the compiled path may ask a list's at once; None: a
    resolver of its own, left to graphql-core."""

    looks_up: tuple[str, str] | None

    def __call__(self, source: Any, info: Any, /) -> Any: ...


def looking_up(resolve: Callable[..., Any], looks_up: tuple[str, str] | None) -> LookUpRead:
    """``resolve`` marked with what it looks up (``LookUpRead``)."""
    marked = cast(LookUpRead, resolve)
    marked.looks_up = looks_up
    return marked


Load = tuple[str, str | None]  # (graph type, the field its records are read by; None: the register's key)


def relating(resolve: Callable[..., Any], relates: tuple[str, tuple[Load, ...]] | None) -> Callable[..., Any]:
    """``resolve`` marked ``relates = (key, loads)``: it reads, by its source record's ``key``, the
    records of each ``(type, field)`` in ``loads`` through the request's loaders and nothing else, so
    the compiled path may warm those loads before the source record arrives when it knows the key
    already (``hub.graphql.compiled.prefetch``); None: unmarked."""
    if relates is not None:
        resolve.relates = relates  # type: ignore[attr-defined]  # a function's attribute, read by getattr
    return resolve


def looking_up_argument(
    resolve: Callable[..., Any], looks_up: tuple[str, str, Callable[[Any], Any]] | None,
) -> Callable[..., Any]:
    """``resolve`` marked ``looks_up_argument = (type, argument, normalize)``: it answers the one record
    of ``type`` whose register key is ``normalize(argument's value)`` (``normalize`` raises on bad
    input), so the compiled path knows the key before the record arrives; None: unmarked."""
    if looks_up is not None:
        resolve.looks_up_argument = looks_up  # type: ignore[attr-defined]  # a function's attribute, read by getattr
    return resolve


def called_with_arguments(
    function: Callable[..., Any], definition: Any, info_class: Any, names: Mapping[str, str]
) -> Callable[..., Any]:
    """A graphql-core resolve function calling the strawberry resolver ``function(info, **arguments)``
    itself, each argument under its Python name (``names``: GraphQL name -> Python name), with the
    ``Info`` strawberry would have built. Only for arguments strawberry passes on as they come."""
    pairs = tuple(names.items())

    def resolve(source: Any, info: Any, **arguments: Any) -> Any:
        return function(info_class(_raw_info=info, _field=definition), **{py: arguments[gql] for gql, py in pairs})

    return resolve


def called_with_info(
    function: Callable[[Any, Any], Any], definition: Any, info_class: Any
) -> Callable[[Any, Any], Any]:
    """A graphql-core resolve function calling the strawberry resolver ``function(root, info)`` itself,
    with the ``Info`` strawberry would have built (its fields ``_raw_info`` and ``_field``)."""

    def resolve(source: Any, info: Any) -> Any:
        return function(source, info_class(_raw_info=info, _field=definition))

    return resolve
