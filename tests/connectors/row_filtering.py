"""What the row-filter tests share: a region, records as sparse in it as 1 in 10, and ``Sources``
over one connector with its metrics, so each test can count source calls and how filters applied.
"""

from __future__ import annotations

from connectors import Binding, Condition, Connector, Page
from connectors.registry import connector_of_kind
from hub.data.cache import MemoryEntityCache
from hub.metrics import Metrics
from hub.data.row_filter import ScanBudget, Selected
from hub.data.sources import Sources
from tests.connectors.subjects import CountingTransport

REGION = "130202"
SITES = 133  # 13 of them in REGION: two full pages of 5, then a short one


def region_of(i: int) -> str | None:
    """Every tenth site in REGION; the rest in a neighbouring county, another province, or nowhere."""
    return {3: REGION, 7: None, 8: ""}.get(i % 10, "130203" if i % 2 else "110105")


SITE_ROWS = [{"number": f"S{i:03d}", "region_code": region_of(i)} for i in range(SITES)]
IN_REGION = [row["number"] for row in SITE_ROWS if row["region_code"] == REGION]


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


def rest_sources(
    binding: Binding, url: str, budget: ScanBudget = ScanBudget()
) -> tuple[Sources, CountingTransport]:
    transport = CountingTransport()
    connector = connector_of_kind(binding.with_source(url=url), transport)
    return sources_over(connector, budget), transport

