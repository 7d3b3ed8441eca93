"""Pieces every department's part of the graph uses: the Date scalar, context and records access, errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, NewType, TypeVar

import strawberry
from strawberry.types import Info
from strawberry.types.scalar import ScalarDefinition

from connectors.base import Record
from hub.context import RequestContext
from hub.data import Records
from hub.errors import BadArgument
from hub.strawberry_bridge import Load, looking_up, looking_up_argument, relating

Resolver = TypeVar("Resolver", bound=Callable[..., Any])


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
    (``Records.looking_up`` and ``Records.finding``) instead of calling it once per record.
    """

    async def resolve(root: Record, info: Info) -> Record | None:
        return await records(info).one(info, type_name, root[key])

    return looking_up(relating(resolve, (key, ((type_name, None),))), (type_name, key))


def related(key: str, *loads: Load) -> Callable[[Resolver], Resolver]:
    """Mark a resolver that reads, by its record's ``key``, the records of each ``(type, field)`` in
    ``loads`` (``Records.many`` or ``many_across`` by that field; None: ``Records.one`` by the type's
    key) and nothing else.

    A parent looked up by that same key (``by_argument``) then has them asked with it, in the same
    source round, by the compiled path (``hub.graphql.compiled.prefetch``); they are still admitted,
    shown and noted by the resolver only, once the parent arrived and was admitted.
    """

    def mark(resolve: Resolver) -> Resolver:
        relating(resolve, (key, loads))
        return resolve

    return mark


def by_argument(type_name: str, argument: str, normalize: Callable[[Any], Any]) -> Callable[[Resolver], Resolver]:
    """Mark a root resolver that answers the one record of ``type_name`` whose register key is
    ``normalize(argument)`` (``normalize`` raises on bad input, as the resolver does), so that the
    compiled path can ask its selection's ``related`` records by that key at the same time as it."""

    def mark(resolve: Resolver) -> Resolver:
        looking_up_argument(resolve, (type_name, argument, normalize))
        return resolve

    return mark


__all__ = ["SCALARS", "BadArgument", "Date", "DateTime", "by_argument", "ctx", "look_up", "records", "related"]
