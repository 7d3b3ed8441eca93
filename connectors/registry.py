"""One place that turns a binding into a connector of its kind."""

from __future__ import annotations

import httpx

from connectors.base import Connector
from connectors.binding import Binding, BindingError
from connectors.graphql import GraphQLConnector
from connectors.rest import RestConnector
from connectors.sql import SqlConnector
from connectors.values import ValueMapped


def build_connector(
    binding: Binding,
    *,
    url: str | None = None,
    timeout: float | None = None,
    cache_ttl: float | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Connector:
    """The connector for ``binding``'s source kind; given settings override the binding's own."""
    bound = binding.with_source(url=url, timeout=timeout, cache_ttl=cache_ttl)
    connector = connector_of_kind(bound, transport)
    if any(entity.values for entity in bound.entities.values()):
        return ValueMapped(connector, bound)
    return connector


def connector_of_kind(bound: Binding, transport: httpx.AsyncBaseTransport | None = None) -> Connector:
    """The bare connector of the binding's kind: department values as the department writes them."""
    kind = bound.source.kind
    if kind == "sql":
        if transport is not None:
            raise ValueError(f"{bound.department}: an HTTP transport does not apply to a SQL source")
        return SqlConnector(bound)
    if kind == "rest":
        return RestConnector(bound, transport=transport)
    if kind == "graphql":
        return GraphQLConnector(bound, transport=transport)
    raise BindingError(bound.file, f"kind {kind!r} has no connector")
