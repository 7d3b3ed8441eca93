"""Jurisdiction row filters through ``Sources.select``: pushed into each kind of source, or applied
after the fetch with full, exactly continuing pages; refused when malformed; never admitting a
record without a division code.

The "sites" table is written here (every tenth record in 130202, others elsewhere or with no code),
so every assertion can name exact records; the demo departments' own data serves the rest.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx
import pytest
from sqlalchemy import Column, MetaData, String, Table, create_engine, event
from sqlalchemy.ext.asyncio import create_async_engine

from connectors import Binding, Condition, Connector, Page, UnsupportedQuery, load_binding
from connectors.registry import connector_of_kind
from hub.cache import MemoryEntityCache
from hub.demo import ecology_service, tables
from hub.demo.services import RunningService, serve_in_thread
from hub.metrics import Metrics
from hub.row_filter import ScanBudget, Selected, admits
from hub.sources import Sources
from tests.connectors.subjects import CountingTransport, read_rows, sqlite_url

REGION = "130202"
SITES = 133  # 13 of them in REGION: two full pages of 5, then a short one


def region_of(i: int) -> str | None:
    """Every tenth site in REGION; the rest in a neighbouring county, another province, or nowhere."""
    return {3: REGION, 7: None, 8: ""}.get(i % 10, "130203" if i % 2 else "110105")


SITE_ROWS = [{"number": f"S{i:03d}", "region_code": region_of(i)} for i in range(SITES)]
IN_REGION = [row["number"] for row in SITE_ROWS if row["region_code"] == REGION]
sites_table = Table(
    "sites", MetaData(), Column("number", String(8), primary_key=True), Column("region_code", String(6))
)
SITES_BINDING = """
department = "sites"
title = "Sites"
title_local = "场所"
[source]
kind = "sql"
url = "{url}"
timeout = 5.0
cache_ttl = 0
[entities.site]
table = "sites"
key = "number"
[entities.site.fields]
number = "number"
region_code = "region_code"
"""


def in_region(prefix: str = REGION) -> Condition:
    return Condition("region_code", "prefix", prefix)


def sources_over(connector: Connector, budget: ScanBudget = ScanBudget()) -> Sources:
    return Sources({connector.name: connector}, MemoryEntityCache(), Metrics(), budget)


def filtered(sources: Sources, connector: str, mode: str) -> float:
    return sources.metrics.value("hub_row_filter_total", connector=connector, mode=mode)


def calls(sources: Sources, connector: str, entity: str) -> float:
    return sources.metrics.value("hub_source_calls_total", connector=connector, entity=entity)


async def walk(sources: Sources, connector: str, entity: str, key: str, size: int) -> list[Selected]:
    """Every page of a row-filtered select, each continuing after the last record of the one before."""
    pages: list[Selected] = []
    after = None
    while True:
        page = await sources.select(connector, entity, [], Page(key, size, after), row_filter=in_region())
        pages.append(page)
        if len(page) < size and not page.truncated:
            return pages
        assert page, "a truncated page with no record cannot move the cursor"
        after = page[-1][key]


# --- SQL: the filter is one more LIKE in the one statement --------------------------------------


async def create_sites(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(sites_table.metadata.create_all)
            await conn.execute(sites_table.insert(), SITE_ROWS)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgres", "mariadb"])
def sites_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path_factory.mktemp("sites"), "sites")
    # The connector suite's per-run database on that server; the sites table is added to it.
    url: str = request.getfixturevalue(f"{request.param}_sources")
    return url


@pytest.fixture(scope="module")
async def sites(sites_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sources]:
    url = sites_url
    await create_sites(url)
    directory = tmp_path_factory.mktemp("sites-binding")
    (directory / "sites.toml").write_text(SITES_BINDING.replace("{url}", url), encoding="utf-8")
    connector = connector_of_kind(load_binding(directory / "sites.toml"))
    sources = sources_over(connector)
    yield sources
    await sources.aclose()
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(sites_table.metadata.drop_all)
    await engine.dispose()


def statements_of(sources: Sources) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []
    engine = sources.connector("sites").engine  # type: ignore[attr-defined]

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        seen.append((statement, parameters))

    return seen


async def test_a_sql_source_takes_the_row_filter_in_its_one_statement(sites: Sources) -> None:
    seen = statements_of(sites)
    page = await sites.select("sites", "site", [], Page("number", 5), row_filter=in_region())
    assert [record["number"] for record in page] == IN_REGION[:5] and not page.truncated
    assert len(seen) == 1
    statement, parameters = seen[0]
    assert "LIKE" in statement.upper()
    assert f"{REGION}%" in (parameters.values() if isinstance(parameters, dict) else parameters)
    assert filtered(sites, "sites", "pushed") >= 1 and filtered(sites, "sites", "post") == 0


async def test_sql_pages_under_a_row_filter_walk_every_record_of_the_region_once(sites: Sources) -> None:
    pages = await walk(sites, "sites", "site", "number", 5)
    assert [len(page) for page in pages] == [5, 5, 3]
    assert [record["number"] for page in pages for record in page] == IN_REGION


async def test_the_whole_city_prefix_still_admits_no_record_without_a_code(sites: Sources) -> None:
    page = await sites.select("sites", "site", [], Page("number", 1000), row_filter=in_region(""))
    assert {record["number"] for record in page} == {
        row["number"] for row in SITE_ROWS if row["region_code"] is not None
    }
    assert all(isinstance(record["region_code"], str) for record in page)


# --- REST: the filter is a query parameter, or (without one) applied after the fetch -------------


@pytest.fixture(scope="module")
def sparse_ecology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    """Ecology's real REST service over permits as sparse in REGION as the sites, some with no code."""
    path = tmp_path_factory.mktemp("sparse-ecology") / "ecology.sqlite"
    metadata = MetaData()
    permits = tables.discharge_permits.to_metadata(metadata)
    permits.c.region_code.nullable = True  # a department's data is not always complete
    engine = create_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    template = read_rows_template()
    with engine.begin() as conn:
        conn.execute(permits.insert(), [
            template | {"permit_number": f"91130200699229617X{i:03d}P", "region_code": region_of(i)}
            for i in range(SITES)
        ])
    engine.dispose()
    with serve_in_thread(ecology_service.create_app(path)) as service:
        yield service


def read_rows_template() -> dict[str, Any]:
    return {
        "holder_uscc": "91130200699229617X", "holder_name": "冀东化工有限公司", "site_number": "001",
        "site_address": "唐山市路南区", "industry_category": "化学原料和化学制品制造业",
        "management_class": "重点管理", "pollutants": "二氧化硫", "issuer_name": "市生态环境局",
        "issue_date": "2023-01-15", "valid_from": "2023-01-15", "valid_to": None, "status": "有效",
    }


PERMITS_IN_REGION = [f"91130200699229617X{i:03d}P" for i in range(SITES) if region_of(i) == REGION]


def without_prefix_parameter(binding: Binding) -> Binding:
    """The ecology binding as for an API that takes no prefix filter."""
    entity = binding.entities["discharge_permit"]
    params = MappingProxyType({op: name for op, name in entity.params.items() if op != "prefix"})
    entities = MappingProxyType({"discharge_permit": replace(entity, params=params)})
    return replace(binding, entities=entities)


def rest_sources(
    binding: Binding, url: str, budget: ScanBudget = ScanBudget()
) -> tuple[Sources, CountingTransport]:
    transport = CountingTransport()
    connector = connector_of_kind(binding.with_source(url=url), transport)
    return sources_over(connector, budget), transport


async def test_a_rest_source_takes_the_row_filter_as_its_prefix_parameter_in_one_request(
    sparse_ecology: RunningService, bindings: dict[str, Binding]
) -> None:
    sources, transport = rest_sources(bindings["ecology"], sparse_ecology.url)
    page = await sources.select("ecology", "discharge_permit", [], Page("number", 5), row_filter=in_region())
    await sources.aclose()
    assert [record["number"] for record in page] == PERMITS_IN_REGION[:5]
    assert len(transport.requests) == 1
    assert transport.requests[0].url.params["region_code_prefix"] == REGION
    assert filtered(sources, "ecology", "pushed") == 1 and filtered(sources, "ecology", "post") == 0


async def test_without_a_prefix_parameter_pages_are_filled_after_the_fetch_and_continue_exactly(
    sparse_ecology: RunningService, bindings: dict[str, Binding]
) -> None:
    sources, transport = rest_sources(without_prefix_parameter(bindings["ecology"]), sparse_ecology.url)
    pages = await walk(sources, "ecology", "discharge_permit", "number", 5)
    await sources.aclose()
    assert [len(page) for page in pages] == [5, 5, 3]
    assert not any(page.truncated for page in pages)
    assert [record["number"] for page in pages for record in page] == PERMITS_IN_REGION
    assert all("region_code_prefix" not in request.url.params for request in transport.requests)
    assert filtered(sources, "ecology", "post") == 3 and filtered(sources, "ecology", "pushed") == 0
    # Widening reads (5, 10, 20, ...) fill a page of a 1-in-10 region in a handful of calls.
    assert calls(sources, "ecology", "discharge_permit") <= 3 * 5


async def test_a_spent_scan_budget_returns_a_short_truncated_page_that_continues_without_a_gap(
    sparse_ecology: RunningService, bindings: dict[str, Binding]
) -> None:
    budget = ScanBudget(max_calls=2, max_scan=10)
    binding = without_prefix_parameter(bindings["ecology"])
    sources, transport = rest_sources(binding, sparse_ecology.url, budget)
    first = await sources.select("ecology", "discharge_permit", [], Page("number", 5), row_filter=in_region())
    assert first.truncated and len(transport.requests) == 2
    # Two calls read 5 then 10 permits, the first 15: two of them are in the region.
    assert [record["number"] for record in first] == PERMITS_IN_REGION[:2]
    pages = await walk(sources, "ecology", "discharge_permit", "number", 5)
    await sources.aclose()
    assert [record["number"] for page in pages for record in page] == PERMITS_IN_REGION


async def test_no_record_without_a_division_code_is_admitted_pushed_or_not(
    sparse_ecology: RunningService, bindings: dict[str, Binding]
) -> None:
    for binding in (bindings["ecology"], without_prefix_parameter(bindings["ecology"])):
        sources, _ = rest_sources(binding, sparse_ecology.url)
        page = await sources.select("ecology", "discharge_permit", [], Page("number", 1000), in_region(""))
        await sources.aclose()
        assert len(page) == len([i for i in range(SITES) if region_of(i) is not None])
        assert all(isinstance(record["region_code"], str) for record in page)


async def test_a_callers_region_inside_the_jurisdiction_is_one_parameter_and_outside_it_no_call(
    ecology_service: RunningService, bindings: dict[str, Binding], demo_data_dir: Path
) -> None:
    sources, transport = rest_sources(bindings["ecology"], ecology_service.url)
    page = Page("number", 50)
    inside = await sources.select("ecology", "discharge_permit", [in_region(REGION)], page, in_region("1302"))
    widened = await sources.select("ecology", "discharge_permit", [in_region("13")], page, in_region())
    outside = await sources.select("ecology", "discharge_permit", [in_region("1101")], page, in_region())
    await sources.aclose()
    rows = read_rows(demo_data_dir / "ecology.sqlite", "discharge_permits")
    expected = sorted(r["permit_number"] for r in rows if r["region_code"].startswith(REGION))[:50]
    assert [r["number"] for r in inside] == [r["number"] for r in widened] == expected and expected
    assert outside == [] and len(transport.requests) == 2
    assert [request.url.params["region_code_prefix"] for request in transport.requests] == [REGION, REGION]


# --- GraphQL: the filter is a declared argument, sent as a variable --------------------------------


def population(demo_data_dir: Path) -> list[dict[str, Any]]:
    return read_rows(demo_data_dir / "security.sqlite", "population")


def graphql_sources(binding: Binding, url: str) -> tuple[Sources, CountingTransport]:
    transport = CountingTransport()
    return sources_over(connector_of_kind(binding.with_source(url=url), transport)), transport


@pytest.fixture
def persons(demo_data_dir: Path) -> tuple[list[str], list[str]]:
    """Forty identity numbers, the commonest address code among them, and the numbers with it."""
    rows = sorted(population(demo_data_dir), key=lambda row: row["id_number"])[:40]
    codes = [row["address_code"] for row in rows]
    prefix = max(set(codes), key=codes.count)
    inside = [row["id_number"] for row in rows if row["address_code"] == prefix]
    assert 0 < len(inside) < len(rows)
    return [row["id_number"] for row in rows], [prefix, *inside]


async def test_a_graphql_source_takes_the_row_filter_as_a_declared_argument_variable(
    security_service: RunningService, bindings: dict[str, Binding], persons: tuple[list[str], list[str]]
) -> None:
    keys, (prefix, *inside) = persons
    sources, transport = graphql_sources(bindings["security"], security_service.url + "/graphql")
    lookup = [Condition("id_number", "in", keys)]
    row_filter = Condition("address_code", "prefix", prefix)
    page = await sources.select("security", "identity_record", lookup, Page("id_number", 100), row_filter)
    await sources.aclose()
    assert [record["id_number"] for record in page] == inside
    assert len(transport.requests) == 1
    body = json.loads(transport.requests[0].content)
    assert body["variables"]["f_addressPrefix"] == prefix
    assert prefix not in body["query"] and "addressPrefix: $f_addressPrefix" in body["query"]
    assert filtered(sources, "security", "pushed") == 1


async def test_a_graphql_binding_without_the_argument_filters_after_the_lookup(
    security_service: RunningService, bindings: dict[str, Binding], persons: tuple[list[str], list[str]]
) -> None:
    keys, (prefix, *inside) = persons
    entity = replace(bindings["security"].entities["identity_record"], filters=MappingProxyType({}))
    binding = replace(bindings["security"], entities=MappingProxyType({"identity_record": entity}))
    sources, transport = graphql_sources(binding, security_service.url + "/graphql")
    lookup = [Condition("id_number", "in", keys)]
    row_filter = Condition("address_code", "prefix", prefix)
    first = await sources.select("security", "identity_record", lookup, Page("id_number", 2), row_filter)
    rest = await sources.select(
        "security", "identity_record", lookup, Page("id_number", 100, first[-1]["id_number"]), row_filter
    )
    await sources.aclose()
    assert [record["id_number"] for record in [*first, *rest]] == inside
    assert all("addressPrefix" not in json.loads(request.content)["query"] for request in transport.requests)
    assert filtered(sources, "security", "post") == 2 and filtered(sources, "security", "pushed") == 0


async def test_the_security_service_refuses_an_address_prefix_longer_than_a_code(
    security_service: RunningService, persons: tuple[list[str], list[str]]
) -> None:
    keys, _ = persons
    query = "query($ids: [String!]!, $p: String) { persons(idNumbers: $ids, addressPrefix: $p) { idNumber } }"
    async with httpx.AsyncClient(base_url=security_service.url) as client:
        refused, literal = [
            (await client.post("/graphql", json={"query": query, "variables": {"ids": keys, "p": p}})).json()
            for p in ("1" * 7, "1_%")
        ]
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "addressPrefix is at most 6 characters" in refused["errors"][0]["message"]
    assert literal == {"data": {"persons": []}}


# --- What no source is ever asked -------------------------------------------------------------------


MALFORMED = [
    "%", "_", "13%", "1302_", "'", "13' OR '1'='1", "1" * 7, "1" * 10_000, "abc", "１３", " 13", "13\n",
]


@pytest.mark.parametrize("prefix", MALFORMED)
async def test_a_malformed_row_filter_is_refused_before_any_source_call(
    ecology_service: RunningService, bindings: dict[str, Binding], prefix: str
) -> None:
    sources, transport = rest_sources(bindings["ecology"], ecology_service.url)
    with pytest.raises(UnsupportedQuery) as refused:
        await sources.select("ecology", "discharge_permit", [], Page("number", 5), in_region(prefix))
    await sources.aclose()
    assert (refused.value.side, refused.value.department) == ("hub", "ecology")
    assert transport.requests == []


NOT_PREFIXES = [Condition("region_code", "eq", REGION), Condition("region_code", "prefix", None)]


@pytest.mark.parametrize("row_filter", NOT_PREFIXES)
async def test_a_row_filter_is_a_text_prefix_and_nothing_else(
    ecology_service: RunningService, bindings: dict[str, Binding], row_filter: Condition
) -> None:
    sources, transport = rest_sources(bindings["ecology"], ecology_service.url)
    with pytest.raises(UnsupportedQuery):
        await sources.select("ecology", "discharge_permit", [], Page("number", 5), row_filter)
    await sources.aclose()
    assert transport.requests == []


@pytest.mark.parametrize(
    ("record", "admitted"),
    [
        ({"region_code": "130202"}, True),
        ({"region_code": "130203"}, False),
        ({"region_code": "13020"}, False),
        ({"region_code": ""}, False),
        ({"region_code": None}, False),
        ({"region_code": 130202}, False),
        ({}, False),
    ],
)
def test_a_key_lookup_admits_only_records_whose_code_starts_with_the_prefix(
    record: dict[str, Any], admitted: bool
) -> None:
    assert admits(record, in_region(REGION)) is admitted


def test_a_scan_budget_needs_at_least_one_call_of_one_record() -> None:
    for calls_, scan in ((0, 10), (3, 0), (-1, -1)):
        with pytest.raises(ValueError):
            ScanBudget(max_calls=calls_, max_scan=scan)


async def test_a_select_without_a_row_filter_is_one_call_and_counts_no_filter(
    ecology_service: RunningService, bindings: dict[str, Binding]
) -> None:
    sources, transport = rest_sources(bindings["ecology"], ecology_service.url)
    page = await sources.select("ecology", "discharge_permit", [], Page("number", 5))
    await sources.aclose()
    assert len(page) == 5 and not page.truncated and len(transport.requests) == 1
    assert filtered(sources, "ecology", "pushed") == filtered(sources, "ecology", "post") == 0

