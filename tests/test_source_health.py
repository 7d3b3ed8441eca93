"""Each source's state, latency, error rate, cache hit rate and last failure, as the hub measures them."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from connectors.base import SourceError
from hub.source_health import HOUR, MAX_CALLS, SourceHealth, probe, watch


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def health(clock: Clock) -> SourceHealth:
    return SourceHealth({"market": "market", "ecology": "ecology"}, slow_after=0.5, clock=clock)


def test_a_source_never_called_is_unknown(health: SourceHealth) -> None:
    report = health.report("market")
    assert report.state == "unknown" and report.calls == 0 and report.p95 is None and report.error_rate is None


def test_latency_percentiles_and_error_rate_cover_the_last_hour_only(health: SourceHealth, clock: Clock) -> None:
    health.called("market", 9.0, "provider", "old")
    clock.now += HOUR + 1
    for ms in range(1, 101):
        health.called("market", ms / 1000)
    health.called("market", 0.2, "provider", "market: provider failed: 503")
    report = health.report("market")
    assert report.calls == 101
    assert (report.p50, report.p95, report.p99) == (0.051, 0.096, 0.1)
    assert report.error_rate == pytest.approx(1 / 101)
    assert report.last_failure is not None and report.last_failure.side == "provider"


def test_a_source_whose_recent_calls_are_slow_is_slow(health: SourceHealth) -> None:
    for _ in range(20):
        health.called("market", 0.9)
    assert health.report("market").state == "slow"
    assert health.report("ecology").state == "unknown"


def test_a_source_whose_last_calls_all_failed_is_down_and_one_success_brings_it_up(health: SourceHealth) -> None:
    health.called("ecology", 0.01)
    for _ in range(3):
        health.called("ecology", 2.0, "provider", "ecology: provider failed: timed out")
    assert health.report("ecology").state == "down"
    health.called("ecology", 0.01)
    report = health.report("ecology")
    assert report.state == "up" and report.last_failure is not None and "timed out" in report.last_failure.reason


def test_one_failure_among_good_calls_does_not_mark_a_source_down(health: SourceHealth) -> None:
    health.called("market", 0.01)
    health.called("market", 0.01, "hub", "a bug")
    assert health.report("market").state == "up"
    assert health.report("market").last_failure.side == "hub"  # type: ignore[union-attr]


def test_a_source_quiet_for_five_minutes_keeps_the_state_of_its_last_call(health: SourceHealth, clock: Clock) -> None:
    health.called("market", 0.01, "provider", "refused")
    clock.now += 600
    assert health.report("market").state == "down"


def test_the_cache_hit_rate_counts_hits_and_misses_of_the_last_hour(health: SourceHealth, clock: Clock) -> None:
    health.cached("market", 0, 10)
    clock.now += HOUR + 1
    health.cached("market", 3, 1)
    assert health.report("market").cache_hit_rate == 0.75
    assert health.report("ecology").cache_hit_rate is None


def test_a_busy_source_keeps_a_bounded_number_of_calls(health: SourceHealth) -> None:
    for _ in range(MAX_CALLS + 10):
        health.called("market", 0.001)
    assert health.report("market").calls == MAX_CALLS


def test_a_failure_reason_is_cut_to_a_readable_length(health: SourceHealth) -> None:
    health.called("market", 0.1, "provider", "x" * 100_000)
    assert len(health.report("market").last_failure.reason) == 300  # type: ignore[union-attr]


def test_a_steward_view_lists_only_that_departments_sources(health: SourceHealth) -> None:
    assert [r.source for r in health.reports(["ecology"])] == ["ecology"]
    assert [r.source for r in health.reports()] == ["ecology", "market"]


class Source:
    """A connector whose answer the test decides (the probe's view of a department system)."""

    name, department, timeout, cache_ttl = "ecology", "ecology", 0.2, 60.0

    def __init__(self, answer: Any) -> None:
        self.answer, self.asked = answer, []  # type: list[Sequence[Any]]

    def entities(self) -> Sequence[str]:
        return ["discharge_permit"]

    def key_of(self, entity: str) -> str:
        return "number"

    async def fetch(self, entity: str, field: str, keys: Sequence[Any]) -> list[dict[str, Any]]:
        self.asked.append(keys)
        if isinstance(self.answer, BaseException):
            raise self.answer
        if self.answer == "hang":
            await asyncio.sleep(10)
        return []


async def test_the_probe_asks_for_a_key_nobody_has_and_records_the_answer(health: SourceHealth) -> None:
    source = Source([])
    await probe(health, source)  # type: ignore[arg-type]
    assert source.asked == [["0"]] and health.report("ecology").state == "up"
    assert health.report("ecology").calls == 0  # a probe is not a call the graph made


@pytest.mark.parametrize(("answer", "side"), [
    (SourceError("ecology", "provider", "503"), "provider"),
    ("hang", "provider"),
    (ConnectionRefusedError("refused"), "provider"),
    (KeyError("a bug in a binding"), "hub"),
])
async def test_a_failed_probe_marks_the_source_down_with_the_side_that_failed(
    health: SourceHealth, answer: Any, side: str,
) -> None:
    await probe(health, Source(answer))  # type: ignore[arg-type]
    report = health.report("ecology")
    assert report.state == "down" and report.last_failure is not None and report.last_failure.side == side


async def test_the_watch_probes_only_sources_the_graph_left_alone(health: SourceHealth) -> None:
    async def graph_calls_market() -> None:  # the graph keeps calling market, never ecology
        while True:
            health.called("market", 0.01)
            await asyncio.sleep(0.01)

    quiet, busy = Source([]), Source([])
    calling = asyncio.create_task(graph_calls_market())
    watching = asyncio.create_task(watch(health, {"ecology": quiet, "market": busy}, every=0.3))  # type: ignore[dict-item]
    try:
        async with asyncio.timeout(10):  # a loaded machine may be late; the watch's own pace is what counts
            while not quiet.asked:
                await asyncio.sleep(0.01)
    finally:
        watching.cancel()
        calling.cancel()
    assert quiet.asked == [["0"]] and busy.asked == []
