"""Telling a dependency's outage from a bug: the exception chain says which dependency failed.

A driver error or a timeout on the way to the registry database or Redis is not the caller's fault
and not a hub bug: it is an outage, answered with 503 and a stable code. Anything else stays a bug
(500, logged with its traceback).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

import asyncpg.exceptions as pg
import redis.exceptions as redis_errors
from sqlalchemy import exc as sa

from hub.errors import Unavailable

REGISTRY_UNAVAILABLE = "REGISTRY_UNAVAILABLE"
REPLAY_CACHE_UNAVAILABLE = "REPLAY_CACHE_UNAVAILABLE"
CACHE_UNAVAILABLE = "CACHE_UNAVAILABLE"

_DATABASE_ERRORS = (
    sa.OperationalError, sa.TimeoutError, sqlite3.OperationalError,
    pg.PostgresConnectionError, pg.InterfaceError, pg.OperatorInterventionError,  # shutdown, cancelled statement
    pg.LockNotAvailableError, pg.InsufficientResourcesError, pg.CannotConnectNowError,
)
_REDIS_ERRORS = (redis_errors.ConnectionError, redis_errors.TimeoutError)
_FILE_ERRORS = (FileNotFoundError, FileExistsError, PermissionError, IsADirectoryError, NotADirectoryError)


@dataclass(frozen=True)
class Outage:
    code: str
    dependency: str  # as an operator names it: "registry database", "DPoP replay cache"

    @property
    def message(self) -> str:
        return f"the hub's {self.dependency} is unavailable; nothing was done, try again shortly"


REGISTRY = Outage(REGISTRY_UNAVAILABLE, "registry database")


class DependencyUnavailable(Unavailable):
    """Raised where the failing dependency is known (the replay cache wraps its Redis errors)."""

    def __init__(self, outage: Outage) -> None:
        super().__init__(outage.message)
        self.outage = outage
        self.code = outage.code


def outage_of(exc: BaseException) -> Outage | None:
    """The outage behind ``exc``, or None when it is not a dependency's failure."""
    for link in _chain(exc):
        if isinstance(link, DependencyUnavailable):
            return link.outage
        if isinstance(link, _REDIS_ERRORS):
            return Outage(CACHE_UNAVAILABLE, "Redis")
        if isinstance(link, sa.DBAPIError) and link.connection_invalidated:
            return REGISTRY
        if isinstance(link, _DATABASE_ERRORS):
            return REGISTRY
    for link in _chain(exc):
        if isinstance(link, (TimeoutError, ConnectionError)):
            return REGISTRY
        if isinstance(link, OSError) and not isinstance(link, _FILE_ERRORS):
            return REGISTRY  # asyncio's "Multiple exceptions: [Errno 111] Connect call failed ..."
    return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, its causes and contexts, and SQLAlchemy's wrapped driver errors, each once."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        link = todo.pop(0)
        if id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        todo.extend(e for e in (link.__cause__, link.__context__, getattr(link, "orig", None)) if e is not None)
