"""Relay cursor connections over keyset pagination in the department sources.

A cursor is the opaque encoding of the last edge's order value; sources are asked for records
strictly after it, so pages stay stable while data changes and no source ever skips rows.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

import orjson
import strawberry
from graphql import FieldNode

from connectors.base import Record
from hub.strawberry_bridge import graphql_core_info
from schema.common import BadArgument

T = TypeVar("T")
_PREFIX = b"c1:"
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


@strawberry.type
class PageInfo:
    carries_department_data: ClassVar[bool] = False  # plumbing: the policies leave it out
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    carries_department_data: ClassVar[bool] = False  # plumbing: the policies leave it out
    node: T
    cursor: str


@strawberry.type
class Connection(Generic[T]):
    carries_department_data: ClassVar[bool] = False  # plumbing: the policies leave it out
    edges: list[Edge[T]]
    page_info: PageInfo


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(_PREFIX + orjson.dumps(value)).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Any:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        if not raw.startswith(_PREFIX):
            raise ValueError
        value = orjson.loads(raw[len(_PREFIX):])
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise BadArgument("after", "not a cursor from this graph") from None
    # orjson reads integers up to 2**64 - 1; a database integer (SQLite's, BIGINT) stops at 2**63 - 1,
    # so a larger one was never a record's value, and as a statement's parameter it would overflow.
    # A boolean (an ``int`` to Python) was never a page's order either: SQLAlchemy refuses ``> true``.
    if (
        isinstance(value, bool) or not isinstance(value, (str, int))
        or isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX
    ):
        raise BadArgument("after", "not a cursor from this graph")
    return value


def check_first(first: int, maximum: int) -> int:
    if first < 1 or first > maximum:
        raise BadArgument("first", f"must be between 1 and {maximum}")
    return first


def connection(info: Any, records: list[Record], first: int, order_key: Callable[[Record], Any], after: Any) -> Record:
    """A connection (plain dicts, resolved by the default resolver) from up to first+1 records.

    Each edge's cursor is encoded only when the operation may ask for it (``cursors_asked``): a
    page of 1,000 edges asked for their nodes only encodes two (the page's start and end cursors).
    """
    page = records[:first]
    if cursors_asked(info):
        edges = [{"node": r, "cursor": encode_cursor(order_key(r))} for r in page]
    else:
        edges = [{"node": r} for r in page]
    return {
        "edges": edges,
        "page_info": {
            # A page the hub filtered after the fetch may end short of its budget with more to come.
            "has_next_page": len(records) > first or getattr(records, "truncated", False),
            "has_previous_page": after is not None,
            "start_cursor": encode_cursor(order_key(page[0])) if page else None,
            "end_cursor": encode_cursor(order_key(page[-1])) if page else None,
        },
    }


def cursors_asked(info: Any) -> bool:
    """Whether the connection field's selection may ask for an edge's ``cursor``.

    Only a selection without fragments at the connection's and the edges' level can tell it does
    not; a fragment (or anything else than a plain field) there counts as asking.
    """
    raw = graphql_core_info(info)
    for node in raw.field_nodes:
        for selection in _selections(node):
            if not isinstance(selection, FieldNode):
                return True
            if selection.name.value != "edges":
                continue
            for inner in _selections(selection):
                if not isinstance(inner, FieldNode) or inner.name.value == "cursor":
                    return True
    return False


def _selections(node: FieldNode) -> tuple[Any, ...]:
    return () if node.selection_set is None else tuple(node.selection_set.selections)
