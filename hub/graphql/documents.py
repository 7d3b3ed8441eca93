"""Parsed and validated documents, cached by query text: clients send the same few operations."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse, validate
from graphql.language import OperationDefinitionNode, OperationType


@dataclass(frozen=True, slots=True)
class Document:
    node: DocumentNode | None
    errors: tuple[GraphQLError, ...]
    parse_failed: bool

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
    """LRU of query text -> parsed and validated document (errors cached too: they are stable)."""

    def __init__(self, schema: GraphQLSchema, *, max_entries: int = 1000, max_length: int = 100_000) -> None:
        self._schema = schema
        self._entries: OrderedDict[str, Document] = OrderedDict()
        self._max_entries = max_entries
        self.max_length = max_length

    def get(self, query: str) -> Document:
        found = self._entries.get(query)
        if found is not None:
            self._entries.move_to_end(query)
            return found
        document = self._load(query)
        self._entries[query] = document
        if len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return document

    def _load(self, query: str) -> Document:
        try:
            node = parse(query, max_tokens=20_000)
        except GraphQLError as error:
            return Document(None, (error,), True)
        errors = validate(self._schema, node)
        return Document(node, tuple(errors), False)
