"""Housing, Ecology and the centre's licensing answer as strawberry Federation v2 subgraphs (``bench.peer``).

What a team would write beside ``bench.peer.market`` for scenario B (an enterprise's licences in
every register), split the way the hub's own subgraphs split it (``schema/subgraphs``): each issuer
owns its licence kind and loads it by number (``resolve_reference`` through a DataLoader), and the
centre's ``licensing`` subgraph adds ``Enterprise.licences``, naming every licence an enterprise
holds (one DataLoader per register, batched by holder); the gateway then fetches each licence's
fields from its issuer. Housing reads ``housing.sqlite`` (SQLAlchemy async with aiosqlite); Ecology's
permits come from its REST service (httpx, keys batched into one call), as they do for the hub and
the floor. ``python -m bench.peer.departments NAME`` serves one (``BENCH_PORT``, ``BENCH_DATA_DIR``,
``BENCH_ECOLOGY_URL``); ``--sdl`` prints its SDL.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import httpx
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
from strawberry.federation.schema_directives import Key
from strawberry.types import Info

from bench.peer.market import LicenceStatus
from bench.value_maps import ValueMaps, load_value_maps

ROOT = Path(__file__).resolve().parents[2]
POOL = {"pool_size": 10, "max_overflow": 10}
DISCHARGE_PATH = "/api/v1/discharge-permits"
PERMITS_BY_NUMBER = text("SELECT permit_no, valid_from, valid_to, status, builder_uscc FROM construction_permits"
                         " WHERE permit_no IN :keys").bindparams(bindparam("keys", expanding=True))
PERMITS_BY_BUILDER = text("SELECT permit_no, builder_uscc FROM construction_permits WHERE builder_uscc IN :keys"
                          ).bindparams(bindparam("keys", expanding=True))
FOOD_BY_HOLDER = text("SELECT number, holder_uscc FROM food_licences WHERE holder_uscc IN :keys").bindparams(
    bindparam("keys", expanding=True))


async def rows(engine: AsyncEngine, statement: Any, **params: Any) -> list[Any]:
    async with engine.connect() as connection:
        return list((await connection.execute(statement, params)).mappings())


async def discharge_permits(http: httpx.AsyncClient, field: str, keys: list[str]) -> list[dict[str, Any]]:
    """Ecology's permits whose ``field`` is one of ``keys``: one REST call, as its API allows."""
    params = {field: ",".join(keys), "order_by": "permit_number", "limit": "1000"}
    response = await http.get(DISCHARGE_PATH, params=params)
    response.raise_for_status()
    return orjson.loads(response.content)["items"]  # type: ignore[no-any-return]


def grouped(keys: list[str], found: list[tuple[str, Any]]) -> list[list[Any]]:
    by_key: dict[str, list[Any]] = {k: [] for k in keys}
    for key, item in found:
        by_key[key].append(item)
    return [by_key[k] for k in keys]


# -- Housing: construction permits --------------------------------------------------------------------


@strawberry.federation.type(keys=[Key(fields="uscc", resolvable=False)], name="Enterprise")
class HousingEnterprise:
    uscc: str


@strawberry.interface(name="Licence")
class HousingLicence:
    number: str
    valid_from: str | None
    valid_to: str | None
    status: LicenceStatus
    holder_uscc: strawberry.Private[str]

    @strawberry.field
    def holder(self) -> HousingEnterprise | None:
        return HousingEnterprise(uscc=self.holder_uscc)


@strawberry.federation.type(keys=["number"])
class ConstructionPermit(HousingLicence):
    @classmethod
    async def resolve_reference(cls, info: Info, number: str) -> ConstructionPermit | None:
        return await info.context["loaders"]["permits"].load(number)  # type: ignore[no-any-return]


def housing_loaders(engine: AsyncEngine, values: ValueMaps) -> dict[str, DataLoader[str, Any]]:
    status = values.of("housing", "construction_permit", "status")

    async def permits(keys: list[str]) -> list[ConstructionPermit | None]:
        found = {r["permit_no"]: ConstructionPermit(
            number=r["permit_no"], valid_from=r["valid_from"], valid_to=r["valid_to"],
            status=LicenceStatus(status(r["status"])), holder_uscc=r["builder_uscc"],
        ) for r in await rows(engine, PERMITS_BY_NUMBER, keys=keys)}
        return [found.get(k) for k in keys]

    return {"permits": DataLoader(permits)}


@strawberry.type(name="Query")
class HousingQuery:
    @strawberry.field
    def housing_ready(self) -> bool:
        return True


# -- Ecology: pollutant discharge permits (its REST service) ----------------------------------------


@strawberry.federation.type(keys=[Key(fields="uscc", resolvable=False)], name="Enterprise")
class EcologyEnterprise:
    uscc: str


@strawberry.interface(name="Licence")
class EcologyLicence:
    number: str
    valid_from: str | None
    valid_to: str | None
    status: LicenceStatus
    holder_uscc: strawberry.Private[str]

    @strawberry.field
    def holder(self) -> EcologyEnterprise | None:
        return EcologyEnterprise(uscc=self.holder_uscc)


@strawberry.federation.type(keys=["number"])
class PollutantDischargePermit(EcologyLicence):
    @classmethod
    async def resolve_reference(cls, info: Info, number: str) -> PollutantDischargePermit | None:
        return await info.context["loaders"]["permits"].load(number)  # type: ignore[no-any-return]


def ecology_loaders(http: httpx.AsyncClient, values: ValueMaps) -> dict[str, DataLoader[str, Any]]:
    status = values.of("ecology", "discharge_permit", "status")

    async def permits(keys: list[str]) -> list[PollutantDischargePermit | None]:
        found = {p["permit_number"]: PollutantDischargePermit(
            number=p["permit_number"], valid_from=p["valid_from"], valid_to=p["valid_to"],
            status=LicenceStatus(status(p["status"])), holder_uscc=p["holder_uscc"],
        ) for p in await discharge_permits(http, "permit_number", keys)}
        return [found.get(k) for k in keys]

    return {"permits": DataLoader(permits)}


@strawberry.type(name="Query")
class EcologyQuery:
    @strawberry.field
    def ecology_ready(self) -> bool:
        return True


# -- The centre's licensing answer: which licences an enterprise holds, in every register ------------


@strawberry.interface(name="Licence")
class NamedLicence:
    number: str


@strawberry.federation.type(keys=["number"], name="FoodBusinessLicence")
class NamedFood(NamedLicence):
    pass


@strawberry.federation.type(keys=["number"], name="ConstructionPermit")
class NamedConstruction(NamedLicence):
    pass


@strawberry.federation.type(keys=["number"], name="PollutantDischargePermit")
class NamedDischarge(NamedLicence):
    pass


@strawberry.federation.type(keys=["uscc"], name="Enterprise")
class LicensedEnterprise:
    uscc: str

    @strawberry.field
    async def licences(self, info: Info) -> list[NamedLicence]:
        loaders = info.context["loaders"]
        food, construction, discharge = await asyncio.gather(
            loaders["food"].load(self.uscc), loaders["construction"].load(self.uscc),
            loaders["discharge"].load(self.uscc),
        )
        return [*food, *construction, *discharge]

    @classmethod
    def resolve_reference(cls, uscc: str) -> LicensedEnterprise:
        return cls(uscc=uscc)


def licensing_loaders(market: AsyncEngine, housing: AsyncEngine,
                      http: httpx.AsyncClient) -> dict[str, DataLoader[str, Any]]:
    async def food(keys: list[str]) -> list[list[NamedLicence]]:
        found = await rows(market, FOOD_BY_HOLDER, keys=keys)
        return grouped(keys, [(r["holder_uscc"], NamedFood(number=r["number"])) for r in found])

    async def construction(keys: list[str]) -> list[list[NamedLicence]]:
        found = await rows(housing, PERMITS_BY_BUILDER, keys=keys)
        return grouped(keys, [(r["builder_uscc"], NamedConstruction(number=r["permit_no"])) for r in found])

    async def discharge(keys: list[str]) -> list[list[NamedLicence]]:
        found = await discharge_permits(http, "holder_uscc", keys)
        return grouped(keys, [(p["holder_uscc"], NamedDischarge(number=p["permit_number"])) for p in found])

    return {"food": DataLoader(food), "construction": DataLoader(construction), "discharge": DataLoader(discharge)}


@strawberry.type(name="Query")
class LicensingQuery:
    @strawberry.field
    def licensing_ready(self) -> bool:
        return True


def _schema(query: type, types: list[type]) -> strawberry.federation.Schema:
    return strawberry.federation.Schema(query=query, types=types, extensions=[ParserCache(), ValidationCache()])


SCHEMAS = {
    "housing": _schema(HousingQuery, [ConstructionPermit, HousingEnterprise]),
    "ecology": _schema(EcologyQuery, [PollutantDischargePermit, EcologyEnterprise]),
    "licensing": _schema(LicensingQuery, [LicensedEnterprise, NamedFood, NamedConstruction, NamedDischarge]),
}


class Subgraph(GraphQL):  # type: ignore[type-arg]
    def __init__(self, schema: strawberry.federation.Schema, loaders: Any) -> None:
        super().__init__(schema, graphql_ide=None)
        self._loaders = loaders

    async def get_context(self, request: Any, response: Any) -> dict[str, Any]:
        return {"loaders": self._loaders(), "request": request}  # new loaders (and their caches) per request

    def encode_json(self, data: Any) -> bytes:
        return orjson.dumps(data)


def create_app(name: str, data_dir: Path, ecology_url: str) -> Starlette:
    values = load_value_maps(ROOT / "connectors" / "departments")

    def engine(department: str) -> AsyncEngine:
        return create_async_engine(f"sqlite+aiosqlite:///{data_dir}/{department}.sqlite", **POOL)

    http = httpx.AsyncClient(base_url=ecology_url, timeout=2.0)
    if name == "housing":
        housing = engine("housing")
        loaders: Any = lambda: housing_loaders(housing, values)  # noqa: E731
    elif name == "ecology":
        loaders = lambda: ecology_loaders(http, values)  # noqa: E731
    else:
        market, housing = engine("market"), engine("housing")
        loaders = lambda: licensing_loaders(market, housing, http)  # noqa: E731

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/healthz", healthz), Mount("/graphql", Subgraph(SCHEMAS[name], loaders))])


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else ""
    if name not in SCHEMAS:
        raise SystemExit(f"usage: python -m bench.peer.departments {'|'.join(SCHEMAS)} [--sdl]")
    if "--sdl" in sys.argv:
        print(SCHEMAS[name].as_str())
        return
    from bench.serving import serve

    os.environ["BENCH_SUBGRAPH"] = name  # for every worker's app_from_env
    serve("bench.peer.departments:app_from_env", int(os.environ["BENCH_PORT"]))


def app_from_env() -> Starlette:
    """The app of one server process (each worker calls it): the subgraph ``BENCH_SUBGRAPH``."""
    env = os.environ
    return create_app(env["BENCH_SUBGRAPH"], Path(env["BENCH_DATA_DIR"]), env["BENCH_ECOLOGY_URL"])


if __name__ == "__main__":
    main()
