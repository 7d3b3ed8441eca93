"""Jurisdiction row filters through ``Sources.select`` on SQL and REST sources: pushed into the
source query in one call, or applied after the fetch with full, exactly continuing pages; never
admitting a record without a division code.

The "sites" table and the sparse permits are written here (every tenth record in 130202, others
elsewhere or with no code), so every assertion can name exact records.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx
import pytest
from sqlalchemy import Column, MetaData, String, Table, create_engine
from sqlalchemy.ext.asyncio import create_async_engine

from connectors import Binding, Page, SqlConnector, load_binding
from connectors.registry import connector_of_kind
from hub.demo import ecology_service, tables
from hub.demo.services import RunningService, serve_in_thread
from hub.data.row_filter import ScanBudget, admits
from hub.data.sources import Sources
from tests.connectors.row_filtering import (
    IN_REGION,
    REGION,
    SITE_ROWS,
    SITES,
    calls,
    filtered,
    in_region,
    region_of,
    rest_sources,
    sources_over,
    walk,
)
from tests.connectors.subjects import CountingTransport, read_rows, sqlite_url

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
    connector = sources.connector("sites")
    assert isinstance(connector, SqlConnector)
    connector.observe(lambda statement, parameters: seen.append((statement, parameters)))
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


async def test_the_entity_cache_holds_raw_records_by_key_and_never_a_filtered_page(
    sparse_ecology: RunningService, bindings: dict[str, Binding]
) -> None:
    sources, _ = rest_sources(bindings["ecology"], sparse_ecology.url)
    await sources.select("ecology", "discharge_permit", [], Page("number", 5), in_region())
    assert await sources.cache.clear() == 0
    outside = "91130200699229617X000P"
    found = await sources.fetch("ecology", "discharge_permit", "number", [PERMITS_IN_REGION[0], outside])
    cached = await sources.cache.get_many("ecology:discharge_permit:number", [PERMITS_IN_REGION[0], outside])
    await sources.aclose()
    assert cached == found and len(cached) == 2
    # A key look-up cannot push the filter: whoever returns the record checks it.
    assert admits(found[PERMITS_IN_REGION[0]][0], in_region()) and not admits(found[outside][0], in_region())


class IgnoresThePrefix(CountingTransport):
    """A department's service that accepts the prefix parameter and ignores it."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url.copy_remove_param("region_code_prefix")
        return await super().handle_async_request(httpx.Request(request.method, url, headers=request.headers))


async def test_a_source_that_ignores_the_pushed_filter_still_shows_no_record_outside_it(
    sparse_ecology: RunningService, bindings: dict[str, Binding], caplog: pytest.LogCaptureFixture
) -> None:
    transport = IgnoresThePrefix()
    sources = sources_over(connector_of_kind(bindings["ecology"].with_source(url=sparse_ecology.url), transport))
    with caplog.at_level(logging.WARNING, logger="hub.sources"):
        pages = await walk(sources, "ecology", "discharge_permit", "number", 5)
    await sources.aclose()
    assert [record["number"] for page in pages for record in page] == PERMITS_IN_REGION
    assert filtered(sources, "ecology", "pushed") >= 1 and filtered(sources, "ecology", "post") == 0
    assert "outside the pushed row filter" in caplog.text
