"""Market Regulation as a strawberry Federation v2 subgraph, written the usual way (``bench.peer``).

Enterprises, persons and food licences from ``market.sqlite`` through SQLAlchemy async; one
DataLoader per relation and per entity key (so ``_entities`` and nested lists batch); statuses
translated with the binding's value maps, as the hub and the floor do. ``python -m bench.peer.market``
serves it on ``BENCH_PORT`` (``BENCH_DATA_DIR``: the demo data); ``--sdl`` prints its SDL.
"""

from __future__ import annotations

import enum
import os
import sys
from pathlib import Path
from typing import Any

import orjson
import strawberry
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from strawberry.asgi import GraphQL
from strawberry.dataloader import DataLoader
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.types import Info

from bench.value_maps import ValueMaps, load_value_maps

ROOT = Path(__file__).resolve().parents[2]
ENTERPRISE_COLUMNS = "uscc, name, status, registered_capital, region_code, legal_rep_id"
ENTERPRISES_BY_USCC = text(f"SELECT {ENTERPRISE_COLUMNS} FROM enterprises WHERE uscc IN :keys").bindparams(
    bindparam("keys", expanding=True))
PERSONS_BY_ID = text("SELECT id_number, name FROM persons WHERE id_number IN :keys").bindparams(
    bindparam("keys", expanding=True))
ENTERPRISE_PAGE = text(f"SELECT {ENTERPRISE_COLUMNS} FROM enterprises ORDER BY uscc LIMIT :limit")
FOOD_BY_NUMBER = text("SELECT number, valid_from, valid_to, status, holder_uscc FROM food_licences"
                      " WHERE number IN :keys").bindparams(bindparam("keys", expanding=True))
FOOD_PAGE = text("SELECT number, valid_from, valid_to, status, holder_uscc FROM food_licences"
                 " WHERE region_code LIKE :prefix ORDER BY number LIMIT :limit")


@strawberry.enum
class EnterpriseStatus(enum.Enum):
    IN_OPERATION = "IN_OPERATION"
    REVOKED = "REVOKED"
    DEREGISTERED = "DEREGISTERED"
    MOVED_OUT = "MOVED_OUT"


@strawberry.enum
class LicenceStatus(enum.Enum):
    VALID = "VALID"
    CHANGED = "CHANGED"
    RENEWED = "RENEWED"
    CANCELLED = "CANCELLED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


@strawberry.enum
class LicenceKind(enum.Enum):
    FOOD_BUSINESS = "food_business"


class Market:
    """One per request: the department file's pool, the value maps, and this request's loaders."""

    def __init__(self, engine: AsyncEngine, values: ValueMaps) -> None:
        self.engine = engine
        self.values = values
        self.enterprises = DataLoader(self._enterprises)
        self.persons = DataLoader(self._persons)
        self.food_licences = DataLoader(self._food_licences)

    async def rows(self, statement: Any, **params: Any) -> list[Any]:
        async with self.engine.connect() as connection:
            return list((await connection.execute(statement, params)).mappings())

    async def _enterprises(self, keys: list[str]) -> list[Enterprise | None]:
        found = {r["uscc"]: r for r in await self.rows(ENTERPRISES_BY_USCC, keys=keys)}
        return [None if k not in found else self.enterprise(found[k]) for k in keys]

    async def _persons(self, keys: list[str]) -> list[Person | None]:
        found = {r["id_number"]: Person(id_number=r["id_number"], name=r["name"])
                 for r in await self.rows(PERSONS_BY_ID, keys=keys)}
        return [found.get(k) for k in keys]

    async def _food_licences(self, keys: list[str]) -> list[FoodBusinessLicence | None]:
        found = {r["number"]: self.food_licence(r) for r in await self.rows(FOOD_BY_NUMBER, keys=keys)}
        return [found.get(k) for k in keys]

    def food_licence(self, row: Any) -> FoodBusinessLicence:
        status = self.values.of("market", "food_licence", "status")
        return FoodBusinessLicence(number=row["number"], valid_from=row["valid_from"], valid_to=row["valid_to"],
                                   status=LicenceStatus(status(row["status"])), holder_uscc=row["holder_uscc"])

    def enterprise(self, row: Any) -> Enterprise:
        status = self.values.of("market", "enterprise", "status")(row["status"])
        return Enterprise(uscc=row["uscc"], name=row["name"], status=EnterpriseStatus(status),
                          registered_capital=row["registered_capital"], region_code=row["region_code"],
                          legal_rep_id=row["legal_rep_id"])


def market(info: Info) -> Market:
    return info.context["market"]  # type: ignore[no-any-return]


@strawberry.federation.type(keys=["idNumber"])
class Person:
    id_number: str
    name: str

    @classmethod
    async def resolve_reference(cls, info: Info, id_number: str) -> Person | None:
        return await market(info).persons.load(id_number)


@strawberry.federation.type(keys=["uscc"])
class Enterprise:
    uscc: str
    name: str
    status: EnterpriseStatus
    registered_capital: float
    region_code: str
    legal_rep_id: strawberry.Private[str | None]

    @strawberry.field
    async def legal_representative(self, info: Info) -> Person | None:
        return None if self.legal_rep_id is None else await market(info).persons.load(self.legal_rep_id)

    @classmethod
    async def resolve_reference(cls, info: Info, uscc: str) -> Enterprise | None:
        return await market(info).enterprises.load(uscc)


@strawberry.interface
class Licence:
    number: str
    valid_from: str | None
    valid_to: str | None
    status: LicenceStatus
    holder_uscc: strawberry.Private[str]

    @strawberry.field
    async def holder(self, info: Info) -> Enterprise | None:
        return await market(info).enterprises.load(self.holder_uscc)


@strawberry.federation.type(keys=["number"])
class FoodBusinessLicence(Licence):
    @classmethod
    async def resolve_reference(cls, info: Info, number: str) -> FoodBusinessLicence | None:
        return await market(info).food_licences.load(number)


@strawberry.type
class EnterpriseEdge:
    node: Enterprise


@strawberry.type
class EnterpriseConnection:
    edges: list[EnterpriseEdge]


@strawberry.type
class LicenceEdge:
    node: Licence


@strawberry.type
class LicenceConnection:
    edges: list[LicenceEdge]


def division_prefix(code: str) -> str:
    return code[:2] if code.endswith("0000") else code[:4] if code.endswith("00") else code


@strawberry.type
class Query:
    @strawberry.field
    async def enterprise(self, info: Info, uscc: str) -> Enterprise | None:
        return await market(info).enterprises.load(uscc)

    @strawberry.field
    async def enterprises(self, info: Info, first: int = 20) -> EnterpriseConnection:
        m = market(info)
        rows = await m.rows(ENTERPRISE_PAGE, limit=first)
        return EnterpriseConnection(edges=[EnterpriseEdge(node=m.enterprise(r)) for r in rows])

    @strawberry.field
    async def licences(self, info: Info, first: int = 20, kind: LicenceKind | None = None,
                       region: str | None = None) -> LicenceConnection:
        m = market(info)
        prefix = "%" if region is None else division_prefix(region) + "%"
        rows = await m.rows(FOOD_PAGE, prefix=prefix, limit=first)
        return LicenceConnection(edges=[LicenceEdge(node=m.food_licence(r)) for r in rows])


SCHEMA = strawberry.federation.Schema(
    query=Query, types=[FoodBusinessLicence], extensions=[ParserCache(), ValidationCache()],
)


class Subgraph(GraphQL):  # type: ignore[type-arg]
    def __init__(self, engine: AsyncEngine, values: ValueMaps) -> None:
        super().__init__(SCHEMA, graphql_ide=None)
        self._engine, self._values = engine, values

    async def get_context(self, request: Any, response: Any) -> dict[str, Any]:
        return {"market": Market(self._engine, self._values), "request": request}

    def encode_json(self, data: Any) -> bytes:
        return orjson.dumps(data)


def create_app(data_dir: Path) -> Starlette:
    engine = create_async_engine(f"sqlite+aiosqlite:///{data_dir}/market.sqlite", pool_size=10, max_overflow=10)
    values = load_value_maps(ROOT / "connectors" / "departments")

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/healthz", healthz), Mount("/graphql", Subgraph(engine, values))])


def main() -> None:
    if "--sdl" in sys.argv:
        print(SCHEMA.as_str())
        return
    from bench.serving import serve

    serve("bench.peer.market:app_from_env", int(os.environ["BENCH_PORT"]))


def app_from_env() -> Starlette:
    """The app of one server process (each worker calls it)."""
    return create_app(Path(os.environ["BENCH_DATA_DIR"]))


if __name__ == "__main__":
    main()
