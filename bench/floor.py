"""The floor: the bench's scenarios answered by hand, as fast as plain Python serves them.

A starlette app with one endpoint per scenario, each a few hand-written SQL statements (SQLAlchemy
async ``text()`` over aiosqlite, one connection pool per department file, sized like the hub's)
joined in Python and answered with orjson, in exactly the shape of the hub's ``data``. What the
hub can only get over HTTP (Ecology's discharge permits) the floor gets from the same REST service
with httpx, in one call, as the hub must. ``GET /stats`` counts the SQL statements and HTTP calls
made so far, so the bench can report source calls per request for the floor as it does for the hub.

Statuses are translated with the same value maps the hub's bindings declare
(``[entities.<entity>.values.<field>]`` in ``connectors/departments/*.toml``), read at start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.value_maps import ValueMaps, load_value_maps

FOOD_PAGE = text(
    "SELECT number, valid_from, valid_to, status, holder_uscc FROM food_licences"
    " WHERE region_code LIKE :prefix ORDER BY number LIMIT :limit"
)
HOLDERS = text("SELECT uscc, name, legal_rep_id FROM enterprises WHERE uscc IN :keys").bindparams(
    bindparam("keys", expanding=True)
)
PERSONS = text("SELECT id_number, name FROM persons WHERE id_number IN :keys").bindparams(
    bindparam("keys", expanding=True)
)
ENTERPRISE = text("SELECT uscc, name FROM enterprises WHERE uscc = :uscc")
FOOD_OF_HOLDER = text("SELECT number, valid_to, status FROM food_licences WHERE holder_uscc = :uscc")
CONSTRUCTION_OF_HOLDER = text(
    "SELECT permit_no, valid_to, status FROM construction_permits WHERE builder_uscc = :uscc"
)
ENTERPRISE_PAGE = text(
    "SELECT uscc, name, status, registered_capital, region_code FROM enterprises ORDER BY uscc LIMIT :limit"
)
DISCHARGE_PATH = "/api/v1/discharge-permits"
# As the hub's SQL connector opens its SQLite pools (connectors/sql.py): reads in autocommit, no ROLLBACK
# when a connection goes back to the pool.
POOL = {"pool_size": 10, "max_overflow": 10, "isolation_level": "AUTOCOMMIT", "skip_autocommit_rollback": True}


@dataclass
class Floor:
    """What the floor process holds: a pool per department file, one HTTP client, its counters."""

    engines: dict[str, AsyncEngine]
    ecology: httpx.AsyncClient
    values: ValueMaps
    counts: dict[str, int] = field(default_factory=lambda: {"sql": 0, "http": 0})

    async def rows(self, department: str, statement: TextClause, **params: Any) -> Sequence[Any]:
        self.counts["sql"] += 1
        async with self.engines[department].connect() as conn:
            return (await conn.execute(statement, params)).all()

    async def discharge_permits(self, uscc: str) -> list[dict[str, Any]]:
        self.counts["http"] += 1
        params = {"holder_uscc": uscc, "order_by": "permit_number", "limit": "1000"}
        response = await self.ecology.get(DISCHARGE_PATH, params=params)
        response.raise_for_status()
        return orjson.loads(response.content)["items"]  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        await self.ecology.aclose()
        for engine in self.engines.values():
            await engine.dispose()


def json(body: Any) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


def division_prefix(code: str) -> str:
    """GB/T 2260: a province's records share 2 digits, a city's 4, a county's all 6."""
    return code[:2] if code.endswith("0000") else code[:4] if code.endswith("00") else code


async def food_licences(request: Request) -> Response:
    """Scenario A: a page of food licences with holder and legal representative, in three statements."""
    floor: Floor = request.app.state.floor
    prefix = division_prefix(request.query_params["region"]) + "%"
    first = int(request.query_params["first"])
    licences = await floor.rows("market", FOOD_PAGE, prefix=prefix, limit=first)
    uscc_keys = sorted({r.holder_uscc for r in licences})
    holders = {h.uscc: h for h in await floor.rows("market", HOLDERS, keys=uscc_keys)}
    person_keys = sorted({h.legal_rep_id for h in holders.values()})
    persons = {
        p.id_number: {"idNumber": p.id_number, "name": p.name}
        for p in await floor.rows("market", PERSONS, keys=person_keys)
    }
    status = floor.values.of("market", "food_licence", "status")
    edges = []
    for r in licences:
        holder = holders.get(r.holder_uscc)
        node = {
            "number": r.number, "validFrom": r.valid_from, "validTo": r.valid_to, "status": status(r.status),
            "holder": None if holder is None else {
                "uscc": holder.uscc, "name": holder.name,
                "legalRepresentative": persons.get(holder.legal_rep_id),
            },
        }
        edges.append({"node": node})
    return json({"licences": {"edges": edges}})


async def enterprise(request: Request) -> Response:
    """Scenario B: one enterprise and its licences from three departments, all asked at once."""
    floor: Floor = request.app.state.floor
    uscc = request.path_params["uscc"]
    found, food, construction, discharge = await asyncio.gather(
        floor.rows("market", ENTERPRISE, uscc=uscc),
        floor.rows("market", FOOD_OF_HOLDER, uscc=uscc),
        floor.rows("housing", CONSTRUCTION_OF_HOLDER, uscc=uscc),
        floor.discharge_permits(uscc),
    )
    if not found:
        return json({"enterprise": None})
    food_status = floor.values.of("market", "food_licence", "status")
    construction_status = floor.values.of("housing", "construction_permit", "status")
    discharge_status = floor.values.of("ecology", "discharge_permit", "status")
    licences = [
        {"__typename": "FoodBusinessLicence", "number": r.number, "validTo": r.valid_to,
         "status": food_status(r.status)}
        for r in food
    ]
    licences += [
        {"__typename": "ConstructionPermit", "number": r.permit_no, "validTo": r.valid_to,
         "status": construction_status(r.status)}
        for r in construction
    ]
    licences += [
        {"__typename": "PollutantDischargePermit", "number": p["permit_number"], "validTo": p["valid_to"],
         "status": discharge_status(p["status"])}
        for p in discharge
    ]
    return json({"enterprise": {"uscc": found[0].uscc, "name": found[0].name, "licences": licences}})


async def enterprises(request: Request) -> Response:
    """Scenario C: a page of enterprises, five fields each, in one statement."""
    floor: Floor = request.app.state.floor
    status = floor.values.of("market", "enterprise", "status")
    rows = await floor.rows("market", ENTERPRISE_PAGE, limit=int(request.query_params["first"]))
    edges = [
        {"node": {"uscc": r.uscc, "name": r.name, "status": status(r.status),
                  "registeredCapital": r.registered_capital, "regionCode": r.region_code}}
        for r in rows
    ]
    return json({"enterprises": {"edges": edges}})


async def stats(request: Request) -> Response:
    return json(request.app.state.floor.counts)


async def healthz(request: Request) -> Response:
    return json({"status": "ok"})


def create_app(data_dir: Path, ecology_url: str, bindings_dir: Path) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # One pool per department file, sized as the hub's SQL connector sizes its pools.
        engines = {
            name: create_async_engine(f"sqlite+aiosqlite:///{data_dir}/{name}.sqlite", **POOL)
            for name in ("market", "housing")
        }
        ecology = httpx.AsyncClient(base_url=ecology_url, timeout=2.0)
        floor = Floor(engines, ecology, load_value_maps(bindings_dir))
        app.state.floor = floor
        gc.collect()
        gc.freeze()  # as the hub does after start-up
        yield
        await floor.aclose()

    routes = [
        Route("/food-licences", food_licences),
        Route("/enterprises/{uscc}", enterprise),
        Route("/enterprises", enterprises),
        Route("/stats", stats),
        Route("/healthz", healthz),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def app_from_env() -> Starlette:
    """The app of one server process (each worker calls it), from the environment ``bench.run`` sets."""
    env = os.environ
    root = Path(__file__).resolve().parent.parent
    return create_app(
        Path(env["BENCH_DATA_DIR"]), env["BENCH_ECOLOGY_URL"],
        Path(env.get("BENCH_BINDINGS", root / "connectors" / "departments")),
    )


def main() -> None:
    from bench.serving import serve

    serve("bench.floor:app_from_env", int(os.environ["BENCH_PORT"]))


if __name__ == "__main__":
    main()
