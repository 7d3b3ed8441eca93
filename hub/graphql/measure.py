"""Measuring an operation before it runs: depth, aliases, root fields, an estimated cost, and the
objects its answer can hold per type (what a disclosure quota reserves room for at admission,
``hub.fairuse.gate``): a list holds ``first`` (capped), a subgraph's ``_entities`` its representations,
an unpaged list ``default_list_size`` (a forecast there, not a bound); a field of an interface or a
union counts for every type it may be.

The walk expands fragment spreads and inline fragments, so a limit cannot be dodged by moving
fields into a fragment. Each named fragment is measured once (memoised), so a "fragment bomb"
that spreads fragments many times over costs the walk nothing extra; a spread of a fragment
being measured (a cycle, which validation rejects later) counts as empty, so cycles cannot hang
it; and the walk stops descending past the depth limit, so deep chains cannot exhaust the stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

from hub.graphql.limits import Limits, refusal

_META_FIELDS = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}


_NONE: dict[str, int] = {}


@dataclass(frozen=True, slots=True)
class Size:
    depth: int = 0
    aliases: int = 0
    fields: int = 0  # fields at the top of the selection set, through fragments
    cost: int = 0
    representations: int = 0  # entity representations a subgraph's `_entities` is given
    objects: Mapping[str, int] = field(default_factory=lambda: _NONE)  # type -> objects the answer can hold

    def __add__(self, other: Size) -> Size:
        if not other.objects:
            objects = self.objects
        elif not self.objects:
            objects = other.objects
        else:
            merged = dict(self.objects)
            for name, count in other.objects.items():
                merged[name] = merged.get(name, 0) + count
            objects = merged
        return Size(
            max(self.depth, other.depth), self.aliases + other.aliases,
            self.fields + other.fields, self.cost + other.cost, self.representations + other.representations,
            objects,
        )


class Measurer:
    """Measures the operations of one document; ``variables`` None means "before any request"."""

    def __init__(
        self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode], limits: Limits,
        max_page_size: int, variables: dict[str, Any] | None = None,
    ) -> None:
        self._schema = schema
        self._fragments = fragments
        self._limits = limits
        self._max_page_size = max_page_size
        self._variables = variables
        self._defaults: dict[str, Any] = {}
        self._memo: dict[tuple[str, bool], Size] = {}
        self._active: set[str] = set()
        self.sized_by_variables = False

    def operation(self, operation: OperationDefinitionNode) -> Size:
        self._defaults = {
            d.variable.name.value: d.default_value.value
            for d in operation.variable_definitions or ()
            if isinstance(d.default_value, IntValueNode)
        }
        self._memo.clear()
        self.sized_by_variables = False
        root = self._schema.get_root_type(operation.operation)
        return self._selections(operation.selection_set, root, paid=False, level=0)

    def _selections(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None, paid: bool, level: int
    ) -> Size:
        total = Size()
        if selection_set is None or level > self._limits.max_depth:
            return total  # past the limit the answer is already "too deep": stop descending
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent, paid, level)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = self._schema.get_type(condition.name.value) if condition else parent
                total += self._selections(selection.selection_set, on, paid, level)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._spread(selection.name.value, paid, level)
        return total

    def _spread(self, name: str, paid: bool, level: int) -> Size:
        fragment = self._fragments.get(name)
        if fragment is None or name in self._active:
            return Size()
        found = self._memo.get((name, paid))
        if found is None:
            self._active.add(name)
            on = self._schema.get_type(fragment.type_condition.name.value)
            found = self._memo[(name, paid)] = self._selections(fragment.selection_set, on, paid, level)
            self._active.discard(name)
        return found

    def _field(self, node: FieldNode, parent: GraphQLNamedType | None, paid: bool, level: int) -> Size:
        definition = _field_definition(node.name.value, parent)
        child_type = get_named_type(definition.type) if definition else None
        multiplier, child_paid, representations = 1, False, 0
        if definition is not None and node.name.value == "_entities" and "representations" in definition.args:
            # A subgraph's `_entities` answers one entity per representation: a list as long as it is given.
            multiplier = representations = self._representations(node)
        elif definition is not None and "first" in definition.args:
            multiplier, child_paid = self._first(node, definition.args["first"].default_value), True
        elif definition is not None and is_list_type(get_nullable_type(definition.type)):
            multiplier = 1 if paid else self._limits.default_list_size
        children = self._selections(node.selection_set, child_type, child_paid, level + 1)
        return Size(
            depth=1 + children.depth,
            aliases=(1 if node.alias else 0) + children.aliases,
            fields=1,
            cost=1 + multiplier * children.cost,
            representations=representations + children.representations,
            objects=self._objects(definition, child_type, multiplier, children.objects),
        )

    def _objects(
        self, definition: GraphQLField | None, child_type: GraphQLNamedType | None, multiplier: int,
        below: Mapping[str, int],
    ) -> Mapping[str, int]:
        """The objects a field's answer can hold: its own (as many as its list holds, one if it is no
        list; each type an abstract one may be) and those of its selections, once per object."""
        if definition is None or not isinstance(child_type, (GraphQLObjectType, GraphQLInterfaceType,
                                                             GraphQLUnionType)):
            return _NONE
        own = multiplier if is_list_type(get_nullable_type(definition.type)) else 1
        found = {name: count * multiplier for name, count in below.items()} if below else {}
        kinds = (
            (child_type,) if isinstance(child_type, GraphQLObjectType) else self._schema.get_possible_types(child_type)
        )
        for kind in kinds:
            found[kind.name] = found.get(kind.name, 0) + own
        return found

    def _representations(self, node: FieldNode) -> int:
        """How many representations `_entities` is given (before the request: the default list size)."""
        argument = next((a for a in node.arguments or () if a.name.value == "representations"), None)
        value: Any = None if argument is None else argument.value
        if isinstance(value, VariableNode):
            self.sized_by_variables = True
            value = (self._variables or {}).get(value.name.value, self._limits.default_list_size)
        if isinstance(value, ListValueNode):
            value = value.values
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        # A single value where a list is expected is coerced to a list of one.
        return len(value) if isinstance(value, (list, tuple)) else 1

    def _first(self, node: FieldNode, schema_default: Any) -> int:
        """The page size a connection field asks for (capped as its resolver caps it)."""
        argument = next((a for a in node.arguments or () if a.name.value == "first"), None)
        value: Any = schema_default if isinstance(schema_default, int) else self._limits.default_list_size
        if argument is not None and isinstance(argument.value, IntValueNode):
            value = argument.value.value
        elif argument is not None and isinstance(argument.value, VariableNode):
            name = argument.value.name.value
            self.sized_by_variables = True
            if self._variables is not None and name in self._variables:
                value = self._variables[name]
            else:
                value = self._defaults.get(name, value)
        try:
            return max(1, min(int(value), self._max_page_size))
        except (TypeError, ValueError):
            return 1  # not an Int: variable coercion refuses the request before any cost is spent


def _field_definition(name: str, parent: GraphQLNamedType | None) -> GraphQLField | None:
    if name in _META_FIELDS:
        return _META_FIELDS[name]
    if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None


def over_limits(
    operation: OperationDefinitionNode, size: Size, limits: Limits, *, with_cost: bool = True
) -> list[GraphQLError]:
    """The limits ``operation`` breaks, each a refusal naming the limit and its value."""
    name = f"operation {operation.name.value!r}" if operation.name else "the operation"
    found: list[GraphQLError] = []
    if size.depth > limits.max_depth:
        found.append(refusal(
            "DEPTH_LIMIT_EXCEEDED",
            f"{name} nests fields deeper than the limit (max_depth = {limits.max_depth})",
            limit=limits.max_depth,
        ))
    if size.aliases > limits.max_aliases:
        found.append(refusal(
            "ALIAS_LIMIT_EXCEEDED",
            f"{name} uses {size.aliases} aliases; the limit is max_aliases = {limits.max_aliases}",
            limit=limits.max_aliases,
        ))
    if size.fields > limits.max_root_fields:
        found.append(refusal(
            "ROOT_FIELD_LIMIT_EXCEEDED",
            f"{name} selects {size.fields} root fields; the limit is max_root_fields = {limits.max_root_fields}",
            limit=limits.max_root_fields,
        ))
    if with_cost and not found and size.representations > limits.max_representations:
        found.append(representation_refusal(name, size.representations, limits.max_representations))
    if with_cost and not found and size.cost > limits.max_cost:
        found.append(cost_refusal(name, size.cost, limits.max_cost))
    return found


def representation_refusal(name: str, representations: int, limit: int) -> GraphQLError:
    return refusal(
        "REPRESENTATION_LIMIT_EXCEEDED",
        f"{name} gives `_entities` {representations} representations; the limit is "
        f"max_representations = {limit}", representations=representations, limit=limit,
    )


def cost_refusal(name: str, cost: int, limit: int) -> GraphQLError:
    return refusal(
        "COST_LIMIT_EXCEEDED",
        f"{name} has an estimated cost of {cost}; the limit is max_cost = {limit} "
        "(a field costs 1; a list multiplies its selections by `first` or the default list size)",
        cost=cost, limit=limit,
    )
