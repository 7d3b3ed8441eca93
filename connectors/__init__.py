"""Department sources behind one async protocol: SQL databases, REST APIs, GraphQL services.

``load_bindings`` reads each department's binding (``connectors/departments/*.toml``);
``build_connector`` turns one into the connector of its kind. Every connector returns raw records
keyed by graph field names and fails with ``SourceError`` naming the department and the side.
"""

from __future__ import annotations

from connectors.base import Condition, Connector, Op, Page, Record, Side, SourceError, UnsupportedQuery
from connectors.binding import (
    Binding,
    BindingError,
    EntityBinding,
    SourceBinding,
    load_binding,
    load_bindings,
)
from connectors.graphql import GraphQLConnector
from connectors.registry import build_connector
from connectors.rest import RestConnector
from connectors.sql import SqlConnector

__all__ = [
    "Binding",
    "BindingError",
    "Condition",
    "Connector",
    "EntityBinding",
    "GraphQLConnector",
    "Op",
    "Page",
    "Record",
    "RestConnector",
    "Side",
    "SourceBinding",
    "SourceError",
    "SqlConnector",
    "UnsupportedQuery",
    "build_connector",
    "load_binding",
    "load_bindings",
]
