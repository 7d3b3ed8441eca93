"""Which fields of a type a resolver's selection asks for: the disclosure audit's field list.

A resolver that returns records of a type (``Query.enterprise``, ``Licence.holder``, a connection
of enterprises) is asked, once per request and selection, which of the type's fields the operation
selects there, through fragments and inline fragments on the type or an interface it implements,
and through a connection's ``edges { node { ... } }``. Names come back as record keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from graphql import (
    BooleanValueNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)

from hub.strawberry_bridge import record_key

PLUMBING = ("edges", "node")


def selected_fields(
    schema: GraphQLSchema, type_name: str, field_nodes: Iterable[FieldNode],
    fragments: dict[str, FragmentDefinitionNode], return_type: GraphQLOutputType,
    variables: dict[str, Any] | None = None,
) -> list[str]:
    """Record keys of ``type_name``'s fields selected under ``field_nodes`` (in the order met)."""
    target = schema.type_map.get(type_name)
    if not isinstance(target, GraphQLObjectType):
        return []
    conditions = {type_name, *(i.name for i in target.interfaces)}
    sets = [n.selection_set for n in field_nodes if n.selection_set is not None]
    if get_named_type(return_type).name.endswith("Connection"):
        for step in PLUMBING:
            sets = [f.selection_set for s in sets for f in _fields(s, None, fragments, variables)
                    if f.name.value == step and f.selection_set is not None]
    names: dict[str, None] = {}
    for selection_set in sets:
        for node in _fields(selection_set, conditions, fragments, variables):
            field = target.fields.get(node.name.value)
            if field is not None:
                names[record_key(field, node.name.value)] = None
    return list(names)


def _fields(
    selection_set: SelectionSetNode, conditions: set[str] | None, fragments: dict[str, FragmentDefinitionNode],
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


def _applies(condition: object, conditions: set[str] | None) -> bool:
    return conditions is None or condition is None or condition.name.value in conditions  # type: ignore[attr-defined]
