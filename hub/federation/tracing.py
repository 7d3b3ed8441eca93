"""Per-field timings for a subgraph request that asks for a federated trace (ftv1).

The subgraph schema's resolvers are wrapped once, at start-up; a wrapper does nothing but look up the
request's ``FieldTimings`` (a context variable, set only when the gateway asked for a trace) and call
through. So untraced requests pay one lookup per field, and traced ones get a node per field.
"""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from graphql import GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema

from hub.federation.ftv1 import Node, Trace

FTV1_HEADER = "apollo-federation-include-trace"
Resolver = Callable[..., Any]
Info = GraphQLResolveInfo[Any]

current: ContextVar[FieldTimings | None] = ContextVar("hub_federation_trace", default=None)


class FieldTimings:
    """The fields resolved by one request, as the tree of a ``Trace``."""

    def __init__(self) -> None:
        self.start_unix_ns = time.time_ns()
        self._start = time.perf_counter_ns()
        self.root = Node()
        self._nodes: dict[tuple[str | int, ...], Node] = {(): self.root}

    def elapsed(self) -> int:
        return time.perf_counter_ns() - self._start

    def node(self, info: Info) -> Node:
        path = tuple(info.path.as_list())
        node = self._node(path)
        node.type = str(info.return_type)
        node.parent_type = info.parent_type.name
        return node

    def _node(self, path: tuple[str | int, ...]) -> Node:
        node = self._nodes.get(path)
        if node is None:
            key = path[-1]
            node = Node(index=key) if isinstance(key, int) else Node(response_name=key)
            self._node(path[:-1]).children.append(node)
            self._nodes[path] = node
        return node

    def trace(self) -> Trace:
        duration = self.elapsed()
        return Trace(self.start_unix_ns, self.start_unix_ns + duration, duration, self.root)


def _error(node: Node, exc: BaseException, info: Info) -> None:
    message = str(exc)
    node.errors.append((message, json.dumps({"message": message, "path": info.path.as_list()})))


async def _timed_async(
    result: Awaitable[Any], node: Node, timings: FieldTimings, info: Info
) -> Any:
    try:
        return await result
    except Exception as exc:
        _error(node, exc, info)
        raise
    finally:
        node.end_ns = timings.elapsed()


def _timed(resolve: Resolver) -> Resolver:
    def resolver(root: Any, info: Info, **args: Any) -> Any:
        timings = current.get()
        if timings is None:
            return resolve(root, info, **args)
        node = timings.node(info)
        node.start_ns = timings.elapsed()
        try:
            result = resolve(root, info, **args)
        except Exception as exc:
            _error(node, exc, info)
            node.end_ns = timings.elapsed()
            raise
        if inspect.isawaitable(result):
            return _timed_async(result, node, timings, info)
        node.end_ns = timings.elapsed()
        return result

    return resolver


def instrument(schema: GraphQLSchema) -> GraphQLSchema:
    """Wrap every field resolver of ``schema`` (in place) so traced requests time it."""
    for named in schema.type_map.values():
        if isinstance(named, GraphQLObjectType) and not named.name.startswith("__"):
            for field in named.fields.values():
                if field.resolve is not None:
                    field.resolve = _timed(field.resolve)
    return schema
