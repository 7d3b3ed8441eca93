"""Ecology and Environment's own REST API over its pollutant discharge permits (demo).

The department does not open its database to the hub; it answers ``GET /api/v1/discharge-permits``
with filters on any column of its ``discharge_permits`` table, under the table's own column names:

- ``C=v1,v2`` equality (a list means IN), ``C_prefix=`` starts with, ``C_from=`` >=, ``C_to=`` <=;
- ``order_by=C`` (default ``permit_number``), ``after=v`` keyset paging (rows whose ``C`` > v),
  ``after_permit_number=p`` to resume inside a run of equal ``C`` values, ``limit=N`` (1..1000).

Anything else is a 400 whose ``error`` says what is wrong. Every value is a bound parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.sql.schema import Column
from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Route

from hub.demo.services import ORJSONResponse, database_lifespan, healthz
from hub.demo.tables import discharge_permits

TABLE = discharge_permits
COLUMNS: dict[str, Column[Any]] = {column.name: column for column in TABLE.columns}
KEY = TABLE.c.permit_number
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_VALUES = 500
OPERATORS = ("prefix", "from", "to")
PAGING = ("order_by", "after", "after_permit_number", "limit")
_LIMIT_PATTERN = re.compile(r"[0-9]{1,7}")


class BadRequest(Exception):
    """A query the API refuses; the message tells the caller what to change."""


@dataclass(frozen=True)
class PermitQuery:
    conditions: tuple[ColumnElement[bool], ...]
    order_by: Column[Any]
    after: str | None
    after_permit_number: str | None
    limit: int


def parse_query(params: QueryParams) -> PermitQuery:
    """Turn the query string into conditions and paging, or raise ``BadRequest``."""
    seen: set[str] = set()
    for key, _ in params.multi_items():
        if key in seen:
            raise BadRequest(f"parameter {key!r} is given more than once; give a list as {key}=a,b,c")
        seen.add(key)
    conditions = tuple(_condition(key, value) for key, value in params.items() if key not in PAGING)
    after, after_key = params.get("after"), params.get("after_permit_number")
    if after_key is not None and after is None:
        raise BadRequest("after_permit_number only makes sense together with after")
    return PermitQuery(
        conditions=conditions,
        order_by=_order_column(params.get("order_by", KEY.name)),
        after=after,
        after_permit_number=after_key,
        limit=_limit(params.get("limit")),
    )


def _condition(key: str, value: str) -> ColumnElement[bool]:
    # An exact column name wins: valid_from is a column, valid_from_from its lower bound.
    if key in COLUMNS:
        values = _values(key, value)
        exact = COLUMNS[key]
        return exact == values[0] if len(values) == 1 else exact.in_(values)
    name, _, operator = key.rpartition("_")
    column = COLUMNS.get(name)
    if column is None or operator not in OPERATORS:
        raise BadRequest(
            f"unknown parameter {key!r}: filter with C, C_prefix, C_from or C_to where C is one of "
            f"{', '.join(COLUMNS)}; page with {', '.join(PAGING)}"
        )
    if not value:
        raise BadRequest(f"{key} needs a value")
    if operator == "prefix":
        return _starts_with(column, value)
    return column >= value if operator == "from" else column <= value


def _values(key: str, value: str) -> list[str]:
    values = value.split(",")
    if len(values) > MAX_VALUES:
        raise BadRequest(f"{key} lists {len(values)} values; at most {MAX_VALUES} per request")
    if not all(values):
        raise BadRequest(f"{key} has an empty value; give {key}=a or {key}=a,b")
    return values


def _starts_with(column: Column[Any], prefix: str) -> ColumnElement[bool]:
    # LIKE with % and _ escaped narrows the rows; SQLite's LIKE ignores ASCII case, so the substr
    # comparison keeps a prefix of 91130200699229617X from matching ...617x.
    return and_(column.startswith(prefix, autoescape=True), func.substr(column, 1, len(prefix)) == prefix)


def _order_column(name: str) -> Column[Any]:
    column = COLUMNS.get(name)
    if column is None:
        raise BadRequest(f"order_by must be one of {', '.join(COLUMNS)}, got {name!r}")
    if column.nullable:
        # Keyset paging compares with ``>``, which no NULL satisfies: those rows could never be reached.
        raise BadRequest(f"order_by {name} is not possible: it may be empty, so paging would skip rows")
    return column


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not _LIMIT_PATTERN.fullmatch(raw) or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}, got {raw!r}")
    return int(raw)


def select_permits(query: PermitQuery) -> Select[Any]:
    """One statement: filters, keyset position, order (ties broken by permit number) and limit."""
    order = (query.order_by,) if query.order_by is KEY else (query.order_by, KEY)
    statement = select(TABLE).where(*query.conditions).order_by(*order).limit(query.limit)
    if query.after is None:
        return statement
    if query.after_permit_number is None:
        return statement.where(query.order_by > query.after)
    return statement.where(
        or_(
            query.order_by > query.after,
            and_(query.order_by == query.after, KEY > query.after_permit_number),
        )
    )


def error(status: int, message: str) -> ORJSONResponse:
    return ORJSONResponse({"error": message}, status_code=status)


async def list_permits(request: Request) -> ORJSONResponse:
    try:
        query = parse_query(request.query_params)
    except BadRequest as exc:
        return error(400, str(exc))
    async with request.app.state.engine.connect() as conn:
        rows = (await conn.execute(select_permits(query))).mappings().all()
    items = [dict(row) for row in rows]
    return ORJSONResponse({"items": items, "count": len(items)})


async def get_permit(request: Request) -> ORJSONResponse:
    statement = select(TABLE).where(KEY == request.path_params["permit_number"])
    async with request.app.state.engine.connect() as conn:
        row = (await conn.execute(statement)).mappings().first()
    return error(404, "not found") if row is None else ORJSONResponse(dict(row))


async def http_error(request: Request, exc: Exception) -> ORJSONResponse:
    # Unknown paths and wrong methods answer in the API's JSON shape too, not starlette's plain text.
    assert isinstance(exc, HTTPException)
    return error(exc.status_code, str(exc.detail).lower())


def create_app(db_path: Path) -> Starlette:
    """The department's REST service on its SQLite file ``db_path`` (opened read-only at start-up)."""
    return Starlette(
        routes=[
            Route("/api/v1/discharge-permits", list_permits, methods=["GET"]),
            Route("/api/v1/discharge-permits/{permit_number}", get_permit, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        exception_handlers={HTTPException: http_error},
        lifespan=database_lifespan(db_path),
    )
