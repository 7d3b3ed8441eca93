"""Relay connections for subgraphs: the graph's own (``schema.pagination``), with ``PageInfo`` shareable.

Market (enterprises) and the centre (licences, cases) both serve connections, so both declare
``PageInfo``; Federation requires a value type resolved by two subgraphs to say so. The subgraph's
``Connection`` is the graph's with that ``PageInfo``; ``Edge`` is the graph's as it is.
"""

from __future__ import annotations

from typing import TypeVar

import strawberry

from schema import pagination

T = TypeVar("T")


@strawberry.federation.type(shareable=True)
class PageInfo(pagination.PageInfo):
    pass


@strawberry.type
class Connection(pagination.Connection[T]):
    page_info: PageInfo
