"""Which fields of a type a resolver's selection asks for: the disclosure audit's field list.

A resolver that returns records of a type (``Query.enterprise``, ``Licence.holder``, a connection
of enterprises) is asked, once per request and selection, which of the type's fields the operation
selects there, through fragments and inline fragments on the type or an interface it implements,
and through a connection's ``edges { node { ... } }``. Names come back as record keys.

``read_keys`` answers the data path's question about the same selection: which record keys will
completing it read? A list whose selection reads five of a register's fifteen columns is fetched
with those five (and what the data path itself needs), not all fifteen.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Set
from typing import Any
from weakref import WeakKeyDictionary

from graphql import (
    BooleanValueNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    NamedTypeNode,
    SelectionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)

from hub.strawberry_bridge import record_key

PLUMBING = ("edges", "node")
# Per schema (a caller's view, kept while it lives) and object type: the type conditions under which a
# fragment's fields are executed on the type, as graphql-core matches them (the type itself and every
# interface or union it belongs to: a subgraph's ``_Entity`` holds its entities).
_CONDITIONS: WeakKeyDictionary[GraphQLSchema, dict[str, frozenset[str]]] = WeakKeyDictionary()


def selected_fields(
    schema: GraphQLSchema, type_name: str, field_nodes: Iterable[FieldNode],
    fragments: dict[str, FragmentDefinitionNode], return_type: GraphQLOutputType,
    variables: dict[str, Any] | None = None,
) -> list[str]:
    """Record keys of ``type_name``'s fields selected under ``field_nodes`` (in the order met)."""
    names: dict[str, None] = {}
    for name, field in _selected(schema, type_name, field_nodes, fragments, return_type, variables):
        if field is not None:
            names[record_key(field, name)] = None
    return list(names)


def cursors_selected(
    field_nodes: Iterable[FieldNode], fragments: dict[str, FragmentDefinitionNode], return_type: GraphQLOutputType,
    variables: dict[str, Any] | None = None,
) -> bool:
    """Whether a connection's selection has its edges' ``cursor``: each one carries its record's key
    (the order the page is read in), so the answer shows every listed record's key."""
    return _connection_selects(field_nodes, fragments, return_type, variables, "edges", {"cursor"})


def page_cursors_selected(
    field_nodes: Iterable[FieldNode], fragments: dict[str, FragmentDefinitionNode], return_type: GraphQLOutputType,
    variables: dict[str, Any] | None = None,
) -> bool:
    """Whether a connection's selection has ``pageInfo``'s ``startCursor`` or ``endCursor``: they carry
    the key of the page's first and last record."""
    return _connection_selects(field_nodes, fragments, return_type, variables, "pageInfo",
                               {"startCursor", "endCursor"})


def _connection_selects(
    field_nodes: Iterable[FieldNode], fragments: dict[str, FragmentDefinitionNode], return_type: GraphQLOutputType,
    variables: dict[str, Any] | None, outer: str, inner: Set[str],
) -> bool:
    if not get_named_type(return_type).name.endswith("Connection"):
        return False
    sets = [n.selection_set for n in field_nodes if n.selection_set is not None]
    return any(
        field.name.value in inner
        for s in sets for part in _fields(s, None, fragments, variables)
        if part.name.value == outer and part.selection_set is not None
        for field in _fields(part.selection_set, None, fragments, variables)
    )


def read_keys(
    schema: GraphQLSchema, type_name: str, field_nodes: Iterable[FieldNode],
    fragments: dict[str, FragmentDefinitionNode], return_type: GraphQLOutputType,
    variables: dict[str, Any] | None = None,
) -> frozenset[str] | None:
    """The record keys the fields selected under ``field_nodes`` read, when every one is a plain read
    (``schema.read_plain_fields_directly``, or the view's mask over one: a mask sees only its own
    value), a look-up by a key of the record (``schema.common.look_up``: it reads that key alone) or
    ``__typename``; None when some field has a resolver of its own, which may read anything.
    """
    keys: set[str] = set()
    for name, field in _selected(schema, type_name, field_nodes, fragments, return_type, variables):
        if field is None:
            if name != "__typename":
                return None
            continue
        key = getattr(field.resolve, "record_key", None)
        if key is None:
            looks_up = getattr(field.resolve, "looks_up", None)
            if looks_up is None:
                return None
            key = looks_up[1]
        keys.add(key)
    return frozenset(keys)


def _selected(
    schema: GraphQLSchema, type_name: str, field_nodes: Iterable[FieldNode],
    fragments: dict[str, FragmentDefinitionNode], return_type: GraphQLOutputType,
    variables: dict[str, Any] | None,
) -> Iterator[tuple[str, GraphQLField | None]]:
    """Each field node selected on ``type_name`` (through a connection's edges and nodes), by name,
    with the type's field of that name (None: none, as for ``__typename``)."""
    target = schema.type_map.get(type_name)
    if not isinstance(target, GraphQLObjectType):
        return
    conditions = _conditions(schema, target)
    sets = [n.selection_set for n in field_nodes if n.selection_set is not None]
    if get_named_type(return_type).name.endswith("Connection"):
        for step in PLUMBING:
            sets = [f.selection_set for s in sets for f in _fields(s, None, fragments, variables)
                    if f.name.value == step and f.selection_set is not None]
    for selection_set in sets:
        for node in _fields(selection_set, conditions, fragments, variables):
            yield node.name.value, target.fields.get(node.name.value)


def _conditions(schema: GraphQLSchema, target: GraphQLObjectType) -> frozenset[str]:
    known = _CONDITIONS.get(schema)
    if known is None:
        known = _CONDITIONS[schema] = {}
    found = known.get(target.name)
    if found is None:
        found = known[target.name] = frozenset({target.name, *(
            name for name, named in schema.type_map.items()
            if isinstance(named, GraphQLInterfaceType | GraphQLUnionType) and schema.is_sub_type(named, target)
        )})
    return found


def _fields(
    selection_set: SelectionSetNode, conditions: Set[str] | None, fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any] | None, seen: frozenset[str] = frozenset(),
) -> Iterator[FieldNode]:
    for selection in selection_set.selections:
        if not _included(selection, variables):
            continue  # @skip(if: true) / @include(if: false): not executed, so not disclosed
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            if _applies(selection.type_condition, conditions):
                yield from _fields(selection.selection_set, conditions, fragments, variables, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen and _applies(fragment.type_condition, conditions):
                yield from _fields(fragment.selection_set, conditions, fragments, variables, seen | {name})


def _included(node: SelectionNode, variables: dict[str, Any] | None) -> bool:
    for directive in node.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            continue
        argument = next((a.value for a in directive.arguments or () if a.name.value == "if"), None)
        if isinstance(argument, VariableNode):
            value = bool((variables or {}).get(argument.name.value))
        else:
            value = isinstance(argument, BooleanValueNode) and argument.value
        if value == (name == "skip"):
            return False
    return True


def _applies(condition: NamedTypeNode | None, conditions: Set[str] | None) -> bool:
    return conditions is None or condition is None or condition.name.value in conditions
