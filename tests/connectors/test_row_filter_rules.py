"""What a row filter is: a prefix of at most six digits, checked before any source is asked, and
a record without a division code is never admitted.
"""

from __future__ import annotations

from typing import Any

import pytest

from connectors import Binding, Condition, Page, UnsupportedQuery
from hub.demo.services import RunningService
from hub.data.row_filter import ScanBudget, admits
from tests.connectors.row_filtering import REGION, filtered, in_region, rest_sources

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
