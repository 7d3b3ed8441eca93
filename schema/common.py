"""Pieces every department's part of the graph uses: the Date scalar, context and records access, errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import NewType

import strawberry
from strawberry.types import Info
from strawberry.types.scalar import ScalarDefinition

from connectors.base import Record
from hub.context import RequestContext
from hub.data import Records
from hub.errors import BadArgument
from hub.strawberry_bridge import looking_up


def _parse_date(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("Date must be a string YYYY-MM-DD")  # noqa: TRY004  graphql-core reports it as bad input
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError(f"{value[:20]!r} is not a date YYYY-MM-DD") from None


# Sources deliver ISO dates as strings; passing them through untouched costs nothing per field.
Date = NewType("Date", str)
DateTime = NewType("DateTime", str)

SCALARS: dict[object, ScalarDefinition] = {
    Date: strawberry.scalar(
        name="Date",
        description="A calendar date, ISO 8601 YYYY-MM-DD.",
        serialize=str,
        parse_value=_parse_date,
    ),
    DateTime: strawberry.scalar(
        name="DateTime",
        description="A local date and time, ISO 8601 YYYY-MM-DDTHH:MM:SS (China Standard Time).",
        serialize=str,
        parse_value=str,
    ),
}


def ctx(info: Info) -> RequestContext:
    context: RequestContext = info.context
    return context


def records(info: Info) -> Records:
    """The request's data path (``hub.data.Records``): the only way a resolver reads a record."""
    found: Records = info.context.records
    return found


def look_up(type_name: str, key: str) -> Callable[[Record, Info], Awaitable[Record | None]]:
    """The resolver of a field that is one look-up: the record of ``type_name`` whose register key is
    the source record's ``key`` (``Records.one``).

    Marked ``looks_up = (type_name, key)``, so that the compiled path (``hub.graphql.compiled``) can
    ask a whole list's keys at once through the same loader, row rule and disclosure note
    (``Records.looking_up`` and ``Records.found``) instead of calling it once per record.
    """

    async def resolve(root: Record, info: Info) -> Record | None:
        return await records(info).one(info, type_name, root[key])

    return looking_up(resolve, (type_name, key))


__all__ = ["SCALARS", "BadArgument", "Date", "DateTime", "ctx", "look_up", "records"]
