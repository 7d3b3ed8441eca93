"""Parsed, measured and validated documents, cached by query text: clients send the same few operations.

A document's verdict (parse errors, limits broken, validation errors) is computed once and kept
with it; only a cost that depends on variables (``first: $n``) is judged again per request.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import NoSchemaIntrospectionCustomRule

from hub.graphql.compiled.plans import Plans
from hub.graphql.limits import Limits, refusal
from hub.graphql.measure import Measurer, cost_refusal, over_limits, representation_refusal

_TOO_MANY_TOKENS = "tokens. Parsing aborted."


@dataclass(frozen=True, slots=True)
class Document:
    node: DocumentNode | None
    errors: tuple[GraphQLError, ...]
    parse_failed: bool
    # Some operation's cost depends on variables: judged per request by ``DocumentCache.cost_refusal``.
    sized_by_variables: bool = False
    schema: GraphQLSchema | None = None  # the view it was measured and validated in
    # operation name -> estimated cost, for operations whose cost depends on no variable (fair-use budgets).
    costs: Mapping[str | None, int] = field(default_factory=dict)
    # operation name -> objects per type its answer can hold, for the same operations (fair-use quotas).
    objects: Mapping[str | None, Mapping[str, int]] = field(default_factory=dict)
    plans: Plans | None = None  # the compiled path's plans in that view (``hub.graphql.compiled``)

    def operation(self, name: str | None) -> OperationDefinitionNode | None:
        """The operation that would run; None when the name matches none (execution reports it)."""
        assert self.node is not None
        operations = [d for d in self.node.definitions if isinstance(d, OperationDefinitionNode)]
        if name is None:
            return operations[0] if len(operations) == 1 else None
        return next((op for op in operations if op.name and op.name.value == name), None)

    def is_query(self, name: str | None) -> bool:
        operation = self.operation(name)
        return operation is None or operation.operation == OperationType.QUERY


class DocumentCache:
    """LRU of query text -> parsed, measured and validated document (errors cached too: they are stable)."""

    def __init__(
        self, schema: GraphQLSchema, limits: Limits | None = None, *, max_page_size: int = 1000,
        hide_suggestions: bool = True, introspection: bool = False, max_entries: int = 1000,
    ) -> None:
        self._schema = schema
        self._limits = limits or Limits()
        self._max_page_size = max_page_size
        self.hide_suggestions = hide_suggestions  # outside development: no "Did you mean" hints
        # Without introspection, `__schema` and `__type` fail validation like unknown fields.
        self._rules = (
            None if introspection else (*specified_rules, NoSchemaIntrospectionCustomRule)
        )
        self._entries: OrderedDict[tuple[GraphQLSchema, str], Document] = OrderedDict()
        self._max_entries = max_entries

    def get(self, query: str, schema: GraphQLSchema | None = None) -> Document:
        """The document measured and validated in ``schema``: a caller's view (``hub.graphql.views``) or the graph.

        Measured in the view: a field outside the caller's grants costs nothing and is then unknown,
        exactly like a field that does not exist (never "too costly" where a missing one is "unknown").
        """
        key = (schema or self._schema, query)
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            return found
        document = self._load(query, key[0])
        self._entries[key] = document
        if len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return document

    def cost_refusal(
        self, document: Document, operation_name: str | None, variables: dict[str, Any] | None
    ) -> GraphQLError | None:
        """The cost verdict for this request's variables (None when within the budget).

        A subgraph's ``_entities`` given its representations in a variable is sized here too: held
        to ``max_representations``, then costed once per representation.
        """
        return self.judged_cost(document, operation_name, variables)[1]

    def judged_cost(
        self, document: Document, operation_name: str | None, variables: dict[str, Any] | None
    ) -> tuple[int, GraphQLError | None]:
        """The estimated cost of the operation this request runs (0 when none would run), and the
        refusal when a size that depends on variables is over its limit: measured once per request."""
        cost, _, refused = self.judged(document, operation_name, variables)
        return cost, refused

    def judged(
        self, document: Document, operation_name: str | None, variables: dict[str, Any] | None
    ) -> tuple[int, Mapping[str, int], GraphQLError | None]:
        """``judged_cost``, with the objects per type the operation's answer can hold (from the same
        measure: ``hub.graphql.measure``)."""
        operation = None if document.node is None else document.operation(operation_name)
        if operation is None or document.node is None:
            return 0, {}, None
        key = operation.name.value if operation.name else None
        found = document.costs.get(key)
        if found is not None or not document.sized_by_variables:
            return found or 0, document.objects.get(key, {}), None
        size = self._measurer(document.node, variables or {}, document.schema).operation(operation)
        name = f"operation {operation.name.value!r}" if operation.name else "the operation"
        if size.representations > self._limits.max_representations:
            limit = self._limits.max_representations
            return size.cost, size.objects, representation_refusal(name, size.representations, limit)
        if size.cost <= self._limits.max_cost:
            return size.cost, size.objects, None
        return size.cost, size.objects, cost_refusal(name, size.cost, self._limits.max_cost)

    def _load(self, query: str, schema: GraphQLSchema) -> Document:
        try:
            node = parse(query, max_tokens=self._limits.max_tokens)
        except GraphQLError as error:
            return Document(None, (self._parse_error(error),), True)
        refused, sized_by_variables, costs, objects = self._judge(node, schema)
        if refused:
            # Validation is never run on a document over the limits: that is the work they protect.
            return Document(node, tuple(refused), False, schema=schema)
        errors = validate(schema, node, self._rules, hide_suggestions=self.hide_suggestions)
        return Document(
            node, tuple(errors), False, sized_by_variables, schema, costs, objects, None if errors else Plans(node)
        )

    def _judge(
        self, node: DocumentNode, schema: GraphQLSchema
    ) -> tuple[list[GraphQLError], bool, dict[str | None, int], dict[str | None, Mapping[str, int]]]:
        measurer = self._measurer(node, None, schema)
        refused: list[GraphQLError] = []
        sized_by_variables = False
        costs: dict[str | None, int] = {}
        objects: dict[str | None, Mapping[str, int]] = {}
        for operation in (d for d in node.definitions if isinstance(d, OperationDefinitionNode)):
            size = measurer.operation(operation)
            refused.extend(over_limits(operation, size, self._limits, with_cost=not measurer.sized_by_variables))
            sized_by_variables = sized_by_variables or measurer.sized_by_variables
            if not measurer.sized_by_variables:
                name = operation.name.value if operation.name else None
                costs[name], objects[name] = size.cost, size.objects
        return refused, sized_by_variables, costs, objects

    def _measurer(
        self, node: DocumentNode, variables: dict[str, Any] | None, schema: GraphQLSchema | None = None
    ) -> Measurer:
        fragments = {d.name.value: d for d in node.definitions if isinstance(d, FragmentDefinitionNode)}
        return Measurer(schema or self._schema, fragments, self._limits, self._max_page_size, variables)

    def _parse_error(self, error: GraphQLError) -> GraphQLError:
        if _TOO_MANY_TOKENS in error.message:
            limit = self._limits.max_tokens
            return refusal(
                "TOKEN_LIMIT_EXCEEDED",
                f"the document has more tokens than the limit (max_tokens = {limit})", limit=limit,
            )
        return error
