"""Public Security's own GraphQL API over its population base data (demo).

The department answers identity checks in batches: ``persons(idNumbers: [...])`` returns the records
it holds for those numbers, in one SQL query; a number it does not hold is simply absent, so the
caller cannot tell "unknown" from "not shared" by an error. ``addressPrefix`` keeps only the persons
whose address code starts with it (a jurisdiction: the caller's region), matched as plain text.
GraphiQL is off, as on a production department endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import strawberry
from graphql import GraphQLError
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.types import Info

from hub.demo.services import database_lifespan, healthz
from hub.demo.tables import population

MAX_ID_NUMBERS = 500
MAX_PREFIX = 6  # an address code is 6 characters: a longer prefix is a mistake, not a filter
BAD_USER_INPUT = "BAD_USER_INPUT"


@dataclass(frozen=True)
class Context:
    engine: AsyncEngine


@strawberry.type
class PopulationRecord:
    id_number: str
    name: str
    sex: str
    birth_date: str
    address_code: str
    id_valid_from: str
    id_valid_to: str | None
    status: str


def address_starts_with(prefix: str) -> ColumnElement[bool]:
    # LIKE with % and _ escaped narrows the rows; the substr comparison keeps SQLite's
    # case-insensitive LIKE from matching letters of another case.
    column = population.c.address_code
    return and_(column.startswith(prefix, autoescape=True), func.substr(column, 1, len(prefix)) == prefix)


async def fetch_persons(
    engine: AsyncEngine, id_numbers: list[str], address_prefix: str | None = None
) -> list[PopulationRecord]:
    """The records held for ``id_numbers`` (within ``address_prefix``), each once, in the order asked."""
    wanted = list(dict.fromkeys(id_numbers))
    if not wanted:
        return []
    statement = select(population).where(population.c.id_number.in_(wanted))
    if address_prefix is not None:
        statement = statement.where(address_starts_with(address_prefix))
    async with engine.connect() as conn:
        rows = (await conn.execute(statement)).mappings().all()
    found = {row["id_number"]: PopulationRecord(**row) for row in rows}
    return [found[number] for number in wanted if number in found]


@strawberry.type
class Query:
    @strawberry.field
    async def persons(
        self, info: Info[Context, None], id_numbers: list[str], address_prefix: str | None = None
    ) -> list[PopulationRecord]:
        if len(id_numbers) > MAX_ID_NUMBERS:
            raise GraphQLError(
                f"persons takes at most {MAX_ID_NUMBERS} idNumbers per request, got {len(id_numbers)}",
                extensions={"code": BAD_USER_INPUT},
            )
        if address_prefix is not None and len(address_prefix) > MAX_PREFIX:
            raise GraphQLError(
                f"addressPrefix is at most {MAX_PREFIX} characters, got {len(address_prefix)}",
                extensions={"code": BAD_USER_INPUT},
            )
        return await fetch_persons(info.context.engine, id_numbers, address_prefix)


class PopulationSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # A refused request is the caller's to fix, not a fault of this service: keep it out of the log.
        faults = [e for e in errors if (e.extensions or {}).get("code") != BAD_USER_INPUT]
        super().process_errors(faults, execution_context)


schema = PopulationSchema(query=Query)


class PopulationGraphQL(GraphQL[Context, None]):
    async def get_context(self, request: Any, response: Any = None) -> Context:
        # The engine lives on the app (opened in its lifespan), so the view needs no engine of its own.
        assert isinstance(request, Request)
        return Context(engine=request.app.state.engine)


def create_app(db_path: Path) -> Starlette:
    """The department's GraphQL service on its SQLite file ``db_path`` (opened read-only at start-up)."""
    graphql = PopulationGraphQL(schema, graphql_ide=None, allow_queries_via_get=False)
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=database_lifespan(db_path),
    )
