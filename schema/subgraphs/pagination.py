"""Relay connections for subgraphs: the graph's own, with ``PageInfo`` shareable.

Market (enterprises) and the centre (licences, cases) both serve connections, so both declare
``PageInfo``; Federation requires a value type resolved by two subgraphs to say so.
"""

from __future__ import annotations

from typing import Generic, TypeVar

import strawberry

T = TypeVar("T")


@strawberry.federation.type(shareable=True)
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    node: T
    cursor: str


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
