"""How each department source is doing, from the hub's own calls and a light periodic check.

``Sources`` tells ``SourceHealth`` of every source call it makes (how long it took, and which side
failed when one did) and of every entity-cache lookup; the console's health page reads
``report()``. Everything is kept in this process for the last hour (a bounded number of calls per
source), so it costs a few list appends per call and no store. A source the graph has not called
for a minute is probed by ``watch``: one lookup of a key no record has, which a working source
answers at once with nothing.

State now: *down* when the source's last calls in the past five minutes all failed (at least
``DOWN_AFTER`` of them, or the probe); *slow* when the 95th percentile of its calls in those five
minutes took longer than ``slow_after`` seconds; *up* when it answered; *unknown* before any call.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from connectors.base import Connector, SourceError

log = logging.getLogger("hub.source_health")

HOUR = 3600.0
RECENT = 300.0
DOWN_AFTER = 3
MAX_CALLS = 50_000  # per source and hour: a busy source keeps its latest calls
PROBE_KEY = "0"


@dataclass(frozen=True, slots=True)
class Call:
    at: float  # wall-clock seconds
    seconds: float
    failed: str | None  # None, "provider" or "hub"
    probe: bool = False


@dataclass(frozen=True, slots=True)
class Failure:
    at: float
    side: str
    reason: str


@dataclass(frozen=True, slots=True)
class SourceReport:
    """One source over the last hour, as the health page shows it."""

    source: str
    department: str
    state: str  # up | slow | down | unknown
    calls: int
    p50: float | None
    p95: float | None
    p99: float | None
    error_rate: float | None
    cache_hit_rate: float | None
    last_failure: Failure | None
    last_call_at: float | None


class SourceHealth:
    def __init__(
        self, departments: Mapping[str, str], slow_after: float = 1.0, clock: Callable[[], float] = time.time,
    ) -> None:
        self.departments = dict(departments)  # source name -> department
        self.slow_after = slow_after
        self.clock = clock
        self._calls: dict[str, deque[Call]] = {name: deque(maxlen=MAX_CALLS) for name in departments}
        self._cache: dict[str, deque[tuple[float, int, int]]] = {name: deque(maxlen=MAX_CALLS) for name in departments}
        self._failures: dict[str, Failure] = {}

    def called(self, source: str, seconds: float, failed: str | None = None, reason: str = "",
               probe: bool = False) -> None:
        now = self.clock()
        self._calls[source].append(Call(now, seconds, failed, probe))
        if failed is not None:
            self._failures[source] = Failure(now, failed, reason[:300])

    def cached(self, source: str, hits: int, misses: int) -> None:
        self._cache[source].append((self.clock(), hits, misses))

    def idle(self, source: str, seconds: float) -> bool:
        calls = self._calls[source]
        return not calls or self.clock() - calls[-1].at > seconds

    def report(self, source: str) -> SourceReport:
        now = self.clock()
        calls = [c for c in self._calls[source] if now - c.at <= HOUR]
        served = sorted(c.seconds for c in calls if not c.probe)
        real = [c for c in calls if not c.probe]
        return SourceReport(
            source=source, department=self.departments[source], state=self._state(calls, now),
            calls=len(real), p50=_percentile(served, 50), p95=_percentile(served, 95), p99=_percentile(served, 99),
            error_rate=sum(c.failed is not None for c in real) / len(real) if real else None,
            cache_hit_rate=self._hit_rate(source, now), last_failure=self._failures.get(source),
            last_call_at=calls[-1].at if calls else None,
        )

    def reports(self, departments: Iterable[str] | None = None) -> list[SourceReport]:
        wanted = None if departments is None else set(departments)
        return [self.report(name) for name in sorted(self._calls)
                if wanted is None or self.departments[name] in wanted]

    def _state(self, calls: list[Call], now: float) -> str:
        recent = [c for c in calls if now - c.at <= RECENT]
        if not calls:
            return "unknown"
        if not recent:
            return "down" if calls[-1].failed else "up"
        last = recent[-DOWN_AFTER:]
        if last[-1].failed and (last[-1].probe or (len(last) == DOWN_AFTER and all(c.failed for c in last))):
            return "down"
        p95 = _percentile(sorted(c.seconds for c in recent if not c.failed), 95)
        return "slow" if p95 is not None and p95 > self.slow_after else "up"

    def _hit_rate(self, source: str, now: float) -> float | None:
        hits = misses = 0
        for at, h, m in self._cache[source]:
            if now - at <= HOUR:
                hits, misses = hits + h, misses + m
        return hits / (hits + misses) if hits + misses else None


def _percentile(ordered: list[float], q: int) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return None
    rank = max(1, -(-q * len(ordered) // 100))
    return ordered[rank - 1]


async def probe(health: SourceHealth, connector: Connector) -> None:
    """One lookup of a key no record has, timed and recorded like a call."""
    entity = connector.entities()[0]
    started = time.perf_counter()
    try:
        await asyncio.wait_for(connector.fetch(entity, connector.key_of(entity), [PROBE_KEY]), connector.timeout)
    except SourceError as exc:
        health.called(connector.name, time.perf_counter() - started, exc.side, str(exc), probe=True)
    except (TimeoutError, OSError) as exc:
        health.called(connector.name, time.perf_counter() - started, "provider", repr(exc), probe=True)
    except Exception as exc:  # noqa: BLE001  a bug on our side: never blamed on the provider
        health.called(connector.name, time.perf_counter() - started, "hub", repr(exc), probe=True)
    else:
        health.called(connector.name, time.perf_counter() - started, probe=True)


async def watch(health: SourceHealth, connectors: Mapping[str, Connector], every: float = 60.0) -> None:
    """Probes each source the graph has not called for ``every`` seconds, until cancelled."""
    while True:
        await asyncio.sleep(every)
        idle = [c for name, c in connectors.items() if health.idle(name, every)]
        await asyncio.gather(*(probe(health, c) for c in idle))
