"""The demo departments' own services: Ecology's REST API, Public Security's GraphQL API, and running
them as real HTTP servers that a test can stop.

The data is a handful of rows written here, so every assertion can name exact records.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from hub.demo import ecology_service, security_service
from hub.demo.services import (
    STARTUP_TIMEOUT_SECONDS, ORJSONResponse, RunningService, healthz, run_demo_services, serve_in_thread,
)
from hub.demo.tables import discharge_permits, ecology, population, security
from hub.identifiers import id_check_char
from hub.identifiers.id_number import birth_date_of, sex_of

PERMITS_PATH = "/api/v1/discharge-permits"
# Underscore and X in the two names test that a prefix's _ is a plain character, not a wildcard.
HOLDERS = [
    ("91130200699229617X", "冀东_化工有限公司", "130202", 4),
    ("91110000600037341L", "冀东X钢铁有限公司", "110105", 3),
    ("91310115MA1K3BTP2B", "浦江环保科技有限公司", "310115", 5),
]
PERSONS_QUERY = """query($ids: [String!]!) {
  persons(idNumbers: $ids) { idNumber name sex birthDate addressCode idValidFrom idValidTo status }
}"""


def permit_rows() -> list[dict[str, Any]]:
    rows = []
    for uscc, name, region, sites in HOLDERS:
        for site in range(1, sites + 1):
            n = len(rows)
            rows.append({
                "permit_number": f"{uscc}{site:03d}P", "holder_uscc": uscc, "holder_name": name,
                "site_number": f"{site:03d}", "site_address": f"{name}第{site}厂区", "region_code": region,
                "industry_category": "化学原料和化学制品制造业", "management_class": ("重点管理", "简化管理")[n % 2],
                "pollutants": "二氧化硫,氮氧化物", "issuer_name": "市生态环境局",
                "issue_date": f"2023-{n + 1:02d}-15", "valid_from": f"2023-{n + 1:02d}-15",
                "valid_to": None if n == 0 else f"2028-{n + 1:02d}-14",
                "status": "revoked" if n % 5 == 4 else "valid",
            })
    return rows


def id_number(first17: str) -> str:
    return first17 + id_check_char(first17)


def person(first17: str, name: str, valid: tuple[str, str | None], status: str) -> dict[str, Any]:
    number = id_number(first17)
    return {"id_number": number, "name": name, "sex": sex_of(number),
            "birth_date": birth_date_of(number), "address_code": number[:6], "id_valid_from": valid[0],
            "id_valid_to": valid[1], "status": status}


PERSONS = [
    person("11010519491231002", "王秀英", ("2010-03-01", None), "normal"),
    person("13020219850706123", "李建国", ("2015-06-01", "2035-06-01"), "normal"),
    person("31011519900101004", "陈静", ("2020-01-10", "2040-01-10"), "deceased"),
]
PERMITS = permit_rows()
PERMIT_NUMBERS = sorted(row["permit_number"] for row in PERMITS)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("departments")
    for name, metadata, table, rows in [
        ("ecology", ecology, discharge_permits, PERMITS), ("security", security, population, PERSONS)
    ]:
        engine = create_engine(f"sqlite:///{directory / name}.sqlite")
        metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(table.insert(), rows)
        engine.dispose()
    return directory


@pytest.fixture(scope="module")
def ecology_url(data_dir: Path) -> Iterator[str]:
    with serve_in_thread(ecology_service.create_app(data_dir / "ecology.sqlite")) as service:
        yield service.url


@pytest.fixture(scope="module")
def security_url(data_dir: Path) -> Iterator[str]:
    with serve_in_thread(security_service.create_app(data_dir / "security.sqlite")) as service:
        yield service.url


@pytest.fixture(scope="module")
async def ecology_asgi(data_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The REST app in process: for input checks a real socket adds nothing to."""
    app = ecology_service.create_app(data_dir / "ecology.sqlite")
    # httpx.ASGITransport does not run the lifespan, which opens the database.
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://eco") as client:
            yield client


async def permits(base_url: str, **params: Any) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.get(PERMITS_PATH, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["items"])
    return body["items"]


def numbers(items: list[dict[str, Any]]) -> list[str]:
    return [item["permit_number"] for item in items]


async def test_listing_returns_every_permit_as_its_table_row_in_permit_number_order(ecology_url: str) -> None:
    items = await permits(ecology_url)
    assert numbers(items) == PERMIT_NUMBERS
    assert items == sorted(PERMITS, key=lambda row: row["permit_number"])


async def test_a_comma_separated_list_selects_permits_whose_column_is_any_value(ecology_url: str) -> None:
    items = await permits(ecology_url, holder_uscc="91130200699229617X,91310115MA1K3BTP2B,91000000000000000X")
    assert len(items) == 9
    assert {item["holder_uscc"] for item in items} == {"91130200699229617X", "91310115MA1K3BTP2B"}


async def test_a_single_value_selects_permits_equal_to_it(ecology_url: str) -> None:
    items = await permits(ecology_url, status="revoked")
    assert numbers(items) == sorted(r["permit_number"] for r in PERMITS if r["status"] == "revoked")


async def test_a_prefix_matches_the_start_of_the_value_with_case_respected(ecology_url: str) -> None:
    assert len(await permits(ecology_url, permit_number_prefix="91130200699229617X")) == 4
    assert await permits(ecology_url, permit_number_prefix="91130200699229617x") == []


async def test_percent_and_underscore_in_a_prefix_are_plain_characters(ecology_url: str) -> None:
    assert {i["holder_name"] for i in await permits(ecology_url, holder_name_prefix="冀东_")} == {"冀东_化工有限公司"}
    assert await permits(ecology_url, holder_name_prefix="_") == []
    assert await permits(ecology_url, permit_number_prefix="%") == []


async def test_from_and_to_bound_a_column_inclusively(ecology_url: str) -> None:
    items = await permits(ecology_url, issue_date_from="2023-03-15", issue_date_to="2023-05-15")
    assert sorted(item["issue_date"] for item in items) == ["2023-03-15", "2023-04-15", "2023-05-15"]


async def test_a_column_whose_name_ends_in_from_is_filtered_by_its_own_name(ecology_url: str) -> None:
    assert len(await permits(ecology_url, valid_from="2023-02-15")) == 1
    assert len(await permits(ecology_url, valid_from_from="2023-11-15")) == 2


async def test_filters_on_different_columns_are_combined_with_and(ecology_url: str) -> None:
    items = await permits(ecology_url, region_code="130202,310115", management_class="重点管理", status="valid")
    expected = [r for r in PERMITS if r["region_code"] in ("130202", "310115")
                and r["management_class"] == "重点管理" and r["status"] == "valid"]
    assert numbers(items) == sorted(r["permit_number"] for r in expected)


async def test_keyset_pagination_walks_every_permit_exactly_once_in_order(ecology_url: str) -> None:
    walked: list[str] = []
    page = await permits(ecology_url, limit=5)
    while page:
        walked += numbers(page)
        page = await permits(ecology_url, limit=5, after=walked[-1])
    assert walked == PERMIT_NUMBERS


async def test_paging_by_a_shared_value_resumes_inside_a_run_of_equal_values(ecology_url: str) -> None:
    walked: list[dict[str, Any]] = []
    page = await permits(ecology_url, order_by="region_code", limit=2)
    while page:
        walked += page
        last = walked[-1]
        page = await permits(ecology_url, order_by="region_code", limit=2,
                             after=last["region_code"], after_permit_number=last["permit_number"])
    assert [(r["region_code"], r["permit_number"]) for r in walked] == sorted(
        (r["region_code"], r["permit_number"]) for r in PERMITS
    )


async def test_a_permit_is_fetched_by_its_number_and_an_unknown_number_is_not_found(ecology_url: str) -> None:
    async with httpx.AsyncClient(base_url=ecology_url) as client:
        found = await client.get(f"{PERMITS_PATH}/{PERMIT_NUMBERS[0]}")
        missing = await client.get(f"{PERMITS_PATH}/91130200699229617X999P")
    assert found.json() == next(r for r in PERMITS if r["permit_number"] == PERMIT_NUMBERS[0])
    assert (missing.status_code, missing.json()) == (404, {"error": "not found"})


@pytest.mark.parametrize(
    ("query", "complaint"),
    [
        ({"colour": "green"}, "unknown parameter 'colour'"),
        ({"status_like": "v"}, "unknown parameter 'status_like'"),
        ({"order_by": "colour"}, "order_by must be one of"),
        ({"order_by": "valid_to"}, "may be empty"),
        ({"limit": "0"}, "limit must be a whole number from 1 to 1000"),
        ({"limit": "1001"}, "limit must be a whole number from 1 to 1000"),
        ({"limit": "ten"}, "limit must be a whole number"),
        ({"limit": "1_0"}, "limit must be a whole number"),
        ({"holder_uscc": ",".join(str(i) for i in range(501))}, "501 values; at most 500"),
        ({"status": "valid,"}, "empty value"),
        ({"holder_name_prefix": ""}, "needs a value"),
        ({"after_permit_number": "9"}, "together with after"),
        ([("status", "valid"), ("status", "revoked")], "given more than once"),
    ],
)
async def test_bad_input_is_refused_with_a_message_saying_what_is_wrong(
    ecology_asgi: httpx.AsyncClient, query: Any, complaint: str
) -> None:
    response = await ecology_asgi.get(PERMITS_PATH, params=query)
    assert response.status_code == 400
    assert complaint in response.json()["error"]


async def test_a_list_of_exactly_500_values_is_accepted(ecology_asgi: httpx.AsyncClient) -> None:
    values = [f"X{i}" for i in range(499)] + [PERMIT_NUMBERS[3]]
    params = {"permit_number": ",".join(values), "limit": "1000"}
    response = await ecology_asgi.get(PERMITS_PATH, params=params)
    assert numbers(response.json()["items"]) == [PERMIT_NUMBERS[3]]


@pytest.mark.parametrize(
    "query",
    [
        {"holder_name": "x' OR '1'='1"},
        {"holder_uscc": "91130200699229617X'); DROP TABLE discharge_permits; --"},
        {"holder_name_prefix": "' OR 1=1 --"},
        {"issue_date_from": "0' OR '1'='1", "issue_date_to": "0"},
        {"permit_number": "1 OR 1=1", "after": "' OR ''='"},
    ],
)
async def test_sql_looking_values_are_plain_values_that_match_no_permit(
    ecology_asgi: httpx.AsyncClient, data_dir: Path, query: dict[str, str]
) -> None:
    response = await ecology_asgi.get(PERMITS_PATH, params=query)
    assert response.json() == {"items": [], "count": 0}
    engine = create_engine(f"sqlite:///{data_dir / 'ecology.sqlite'}")
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(discharge_permits)) == len(PERMITS)
    engine.dispose()


async def test_unknown_paths_answer_not_found_in_json_and_health_is_ok(
    ecology_asgi: httpx.AsyncClient,
) -> None:
    missing = await ecology_asgi.get("/api/v2/permits")
    assert (missing.status_code, missing.json()) == (404, {"error": "not found"})
    assert (await ecology_asgi.get("/healthz")).json() == {"status": "ok"}


async def persons(base_url: str, ids: list[str]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.post("/graphql", json={"query": PERSONS_QUERY, "variables": {"ids": ids}})
    assert response.status_code == 200, response.text
    return response.json()


def as_graphql(row: dict[str, Any]) -> dict[str, Any]:
    """A population row as the GraphQL service names its fields (id_valid_to -> idValidTo)."""
    camel = {name: name.split("_")[0] + "".join(p.title() for p in name.split("_")[1:]) for name in row}
    return {camel[name]: value for name, value in row.items()}


async def test_persons_returns_the_records_for_the_numbers_in_the_order_asked(security_url: str) -> None:
    body = await persons(security_url, [PERSONS[2]["id_number"], PERSONS[0]["id_number"]])
    assert body == {"data": {"persons": [as_graphql(PERSONS[2]), as_graphql(PERSONS[0])]}}


async def test_persons_leaves_unknown_numbers_out_and_answers_repeats_once(security_url: str) -> None:
    known = PERSONS[1]["id_number"]
    body = await persons(security_url, [id_number("44030519800101001"), known, known])
    assert [p["idNumber"] for p in body["data"]["persons"]] == [known]
    assert await persons(security_url, []) == {"data": {"persons": []}}


async def test_persons_refuses_more_than_500_numbers_with_a_graphql_error(security_url: str) -> None:
    accepted = await persons(security_url, [f"{i:018d}" for i in range(500)])
    refused = await persons(security_url, [f"{i:018d}" for i in range(501)])
    assert accepted == {"data": {"persons": []}}
    assert refused["data"] is None
    (error,) = refused["errors"]
    assert error["message"] == "persons takes at most 500 idNumbers per request, got 501"
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_the_graphql_service_offers_no_graphiql_page_and_reports_health(security_url: str) -> None:
    async with httpx.AsyncClient(base_url=security_url) as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        health = await client.get("/healthz")
    assert page.status_code == 405
    assert health.json() == {"status": "ok"}


async def test_after_stop_the_service_refuses_new_connections(data_dir: Path) -> None:
    service = serve_in_thread(ecology_service.create_app(data_dir / "ecology.sqlite"))
    async with httpx.AsyncClient(base_url=service.url) as client:
        assert (await client.get("/healthz")).status_code == 200
        service.stop()
        # The same client had a kept-alive connection: stop closed it too, and no new one is accepted.
        with pytest.raises(httpx.ConnectError):
            await client.get("/healthz")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{service.url}/healthz")
    service.stop()  # a second stop is harmless


def test_a_service_whose_database_file_is_missing_fails_to_start(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="did not start"):
        serve_in_thread(ecology_service.create_app(tmp_path / "nowhere.sqlite"))


def test_run_demo_services_serves_both_departments_from_one_data_directory(data_dir: Path) -> None:
    services: list[RunningService] = run_demo_services(data_dir, ecology_port=0, security_port=0)
    try:
        ecology_app, security_app = (service.url for service in services)
        assert httpx.get(f"{ecology_app}{PERMITS_PATH}", params={"limit": 1}).json()["count"] == 1
        answer = httpx.post(f"{security_app}/graphql", json={"query": "{ persons(idNumbers: []) { name } }"})
        assert answer.json() == {"data": {"persons": []}}
    finally:
        for service in services:
            service.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{services[0].url}/healthz")


def test_a_service_whose_shutdown_never_finishes_is_stopped_all_the_same() -> None:
    """uvicorn's force_exit cannot end a lifespan shutdown that is under way; stop() cancels it."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await asyncio.Event().wait()  # a clean-up waiting on something that never comes

    before = _threads_of_process()
    service = serve_in_thread(Starlette(routes=[Route("/healthz", healthz)], lifespan=lifespan), grace=0)
    assert httpx.get(f"{service.url}/healthz").status_code == 200
    service.stop()
    assert _threads_of_process() == before
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{service.url}/healthz")


def test_a_department_stopped_with_a_request_holding_a_pooled_connection_closes_it_and_ends(
    data_dir: Path,
) -> None:
    """The request is cancelled after the grace, its connection goes back to the pool and is closed
    with it: no database thread is left behind (aiosqlite's threads would keep the process alive)."""
    holding = threading.Event()
    app = ecology_service.create_app(data_dir / "ecology.sqlite")

    async def hold(request: Request) -> ORJSONResponse:
        async with request.app.state.engine.connect() as conn:
            await conn.execute(select(func.count()).select_from(discharge_permits))
            holding.set()
            await asyncio.Event().wait()  # a request that never finishes
        return ORJSONResponse({})

    app.router.routes.append(Route("/hold", hold))
    before = _threads_of_process()
    service = serve_in_thread(app, grace=0)
    client = threading.Thread(target=_ask_ignoring_the_answer, args=(f"{service.url}/hold",), daemon=True)
    client.start()
    assert holding.wait(STARTUP_TIMEOUT_SECONDS)
    service.stop()
    client.join(STARTUP_TIMEOUT_SECONDS)
    assert _threads_of_process() == before


def _ask_ignoring_the_answer(url: str) -> None:
    with contextlib.suppress(httpx.HTTPError):
        httpx.get(url, timeout=None)


def _threads_of_process() -> set[threading.Thread]:
    return set(threading.enumerate())
