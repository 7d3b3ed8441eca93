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

With several replicas, each measures its own calls; when a Redis is configured
(``HUB_SOURCE_HEALTH_URL``, or the entity cache's or replay cache's Redis), ``share`` adds them to it
every two seconds and the page reads every replica's figures from there
(``hub/source_health_shared.py``), so each replica shows the same.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError

from connectors.base import Connector, SourceError

if TYPE_CHECKING:
    from hub.source_health_shared import SharedHealth

log = logging.getLogger("hub.source_health")

HOUR = 3600.0
RECENT = 300.0
DOWN_AFTER = 3
MAX_CALLS = 50_000  # per source and hour: a busy source keeps its latest calls
PROBE_KEY = "0"
MAX_PENDING = 100_000  # calls waiting to be shared while Redis does not answer: the latest are kept


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
        self.shared: SharedHealth | None = None
        self._pending: deque[tuple[str, Call]] = deque(maxlen=MAX_PENDING)
        self._pending_cache: deque[tuple[str, float, int, int]] = deque(maxlen=MAX_PENDING)
        self._pending_failures: dict[str, tuple[float, str, str]] = {}

    def share(self, shared: SharedHealth) -> None:
        """From now on, calls are also added to ``shared`` (by ``flush``) and pages read from there."""
        self.shared = shared

    def called(self, source: str, seconds: float, failed: str | None = None, reason: str = "",
               probe: bool = False) -> None:
        now = self.clock()
        call = Call(now, seconds, failed, probe)
        self._calls[source].append(call)
        if failed is not None:
            self._failures[source] = Failure(now, failed, reason[:300])
        if self.shared is not None:
            self._pending.append((source, call))
            if failed is not None:
                self._pending_failures[source] = (now, failed, reason[:300])

    def cached(self, source: str, hits: int, misses: int) -> None:
        at = self.clock()
        self._cache[source].append((at, hits, misses))
        if self.shared is not None:
            self._pending_cache.append((source, at, hits, misses))

    async def flush(self) -> None:
        """Adds what was measured here since the last flush to the shared store (raises
        ``RedisError`` and keeps it for the next flush when Redis does not answer)."""
        if self.shared is None:
            return
        calls, cached, failures = list(self._pending), list(self._pending_cache), dict(self._pending_failures)
        self._pending.clear()
        self._pending_cache.clear()
        self._pending_failures.clear()
        try:
            await self.shared.flush(calls, cached, failures)
        except BaseException:  # kept for the next flush (the latest, when too many wait)
            self._pending = deque([*calls, *self._pending][-MAX_PENDING:], maxlen=MAX_PENDING)
            self._pending_cache = deque([*cached, *self._pending_cache][-MAX_PENDING:], maxlen=MAX_PENDING)
            self._pending_failures = {**failures, **self._pending_failures}
            raise

    async def current(self, departments: Iterable[str] | None = None) -> tuple[list[SourceReport], bool]:
        """The reports a page shows, and whether they are every replica's (False: Redis did not
        answer, and these are this replica's own)."""
        local = self.reports(departments)
        if self.shared is None:
            return local, True
        try:
            await self.flush()
            return await self.shared.reports(self, [r.source for r in local]), True
        except (RedisError, OSError) as exc:
            log.warning("source health: Redis did not answer (%s); showing this replica's own view", exc)
            return local, False

    def combine(
        self, source: str, now: float, minutes: list[dict[str, int]], recent: list[list[Any]],
        failure: list[Any] | None,
    ) -> SourceReport:
        """The report of ``source`` from the shared store's figures (``hub/source_health_shared.py``):
        the last hour's per-minute counts and histograms (newest minute first), the latest calls of
        every replica, and the latest failure."""
        from hub.source_health_shared import histogram, percentile

        calls = [Call(float(at), float(seconds), failed, bool(probe)) for at, seconds, failed, probe, *_ in recent]
        calls.sort(key=lambda c: c.at)
        real = sum(m.get("n", 0) for m in minutes)
        anything = real + sum(m.get("p", 0) for m in minutes)
        served = histogram(minutes, "b")
        lately = [c for c in calls if now - c.at <= RECENT]
        p95_lately = percentile(histogram(minutes[:int(RECENT // 60)], "s"), 95)
        hits, misses = sum(m.get("h", 0) for m in minutes), sum(m.get("m", 0) for m in minutes)
        return SourceReport(
            source=source, department=self.departments[source],
            state=self._state_now(bool(anything) or bool(lately), lately, calls[-1] if calls else None, p95_lately),
            calls=real, p50=percentile(served, 50), p95=percentile(served, 95), p99=percentile(served, 99),
            error_rate=sum(m.get("f", 0) for m in minutes) / real if real else None,
            cache_hit_rate=hits / (hits + misses) if hits + misses else None,
            last_failure=Failure(float(failure[0]), str(failure[1]), str(failure[2])) if failure else None,
            last_call_at=calls[-1].at if calls else None,
        )

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
        p95 = _percentile(sorted(c.seconds for c in recent if not c.failed), 95)
        return self._state_now(bool(calls), recent, calls[-1] if calls else None, p95)

    def _state_now(self, any_call: bool, recent: list[Call], last_call: Call | None, p95: float | None) -> str:
        """From the last hour's calls: were there any, those of the last five minutes (oldest
        first), the latest call, and the 95th percentile of the recent answered calls."""
        if not any_call or last_call is None:
            return "unknown"
        if not recent:
            return "down" if last_call.failed else "up"
        last = recent[-DOWN_AFTER:]
        if last[-1].failed and (last[-1].probe or (len(last) == DOWN_AFTER and all(c.failed for c in last))):
            return "down"
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
