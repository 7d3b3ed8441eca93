"""The department sources as the graph sees them: connectors, behind the entity cache, counted.

``Sources`` is app-wide (one per hub process); it never sees a caller. ``fetch`` is what every
entity loader's batch calls: cache first, then one source call for all the misses. ``select`` asks
for a page of records, under a jurisdiction row filter when the policy engine gives one
(``hub.data.row_filter``: pushed into the source query when the connector can take it, else applied
after the fetch). Pages are never cached: the entity cache holds raw records by key only.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import NoOpTracer, Span, StatusCode, Tracer

from connectors.base import Condition, Connector, Page, Record, SourceError
from hub.data.cache import EntityCache, namespace_of
from hub.faults.breaker import STATE_VALUES, Breaker
from hub.metrics import Metrics
from hub.data.row_filter import ScanBudget, Selected, admitted, check_row_filter, narrow
from hub.source_health import SourceHealth

log = logging.getLogger("hub.sources")


class Sources:
    def __init__(
        self,
        connectors: Mapping[str, Connector],
        cache: EntityCache,
        metrics: Metrics,
        scan_budget: ScanBudget = ScanBudget(),
        tracer: Tracer | None = None,
        breakers: Mapping[str, Breaker] | None = None,
    ) -> None:
        self.connectors = dict(connectors)
        self.tracer = tracer or NoOpTracer()  # hub.telemetry: a span per department fetch and select
        # Per connector (hub.faults.breaker); none: every call goes to its department.
        self.breakers = dict(breakers or {})
        for name, breaker in self.breakers.items():
            metrics.breaker_state.labels(name).set_function(_state_value(breaker))
        self.cache = cache
        self.metrics = metrics
        self.scan_budget = scan_budget
        # Each call's time and failing side, for the console's health page (hub/source_health.py).
        self.health = SourceHealth({name: conn.department for name, conn in self.connectors.items()})
        # Counters resolved once: label lookups cost more than the increments themselves.
        self._calls = {
            (name, entity): metrics.source_calls.labels(name, entity)
            for name, conn in self.connectors.items()
            for entity in conn.entities()
        }
        self._hits = {name: metrics.cache_hits.labels(name) for name in self.connectors}
        self._misses = {name: metrics.cache_misses.labels(name) for name in self.connectors}
        self._seconds = {name: metrics.source_seconds.labels(name) for name in self.connectors}

    def connector(self, name: str) -> Connector:
        return self.connectors[name]

    async def fetch(
        self, connector: str, entity: str, field: str, keys: Sequence[str]
    ) -> dict[str, list[Record]]:
        """Records grouped by key, for every key (an empty list when the source has none)."""
        with self.tracer.start_as_current_span("department.fetch", attributes=_about(connector, entity)) as span:
            span.set_attribute("hub.keys", len(keys))
            return await self._fetch(span, connector, entity, field, keys)

    async def _fetch(
        self, span: Span, connector: str, entity: str, field: str, keys: Sequence[str]
    ) -> dict[str, list[Record]]:
        conn = self.connectors[connector]
        namespace = namespace_of(connector, entity, field)
        found = await self.cache.get_many(namespace, keys)
        if found:
            self._hits[connector].inc(len(found))
        missing = [k for k in keys if k not in found]
        span.set_attributes({"hub.cache.hits": len(found), "hub.cache.misses": len(missing),
                             "hub.cache": "hit" if not missing else "miss" if not found else "partial"})
        self.health.cached(connector, len(found), len(missing))
        if not missing:
            return found
        self._misses[connector].inc(len(missing))
        records = await self._call(conn, entity, conn.fetch(entity, field, missing))
        fetched: dict[str, list[Record]] = {k: [] for k in missing}
        for record in records:
            group = fetched.get(str(record[field]))
            if group is not None:
                group.append(record)
        await self.cache.set_many(namespace, fetched, conn.cache_ttl)
        found.update(fetched)
        return found

    async def select(
        self,
        connector: str,
        entity: str,
        where: Sequence[Condition],
        page: Page,
        row_filter: Condition | None = None,
    ) -> Selected:
        """Up to ``page.limit`` records matching ``where`` (and ``row_filter``), in ``page`` order."""
        with self.tracer.start_as_current_span("department.select", attributes=_about(connector, entity)) as span:
            span.set_attribute("hub.page.limit", page.limit)
            return await self._select(connector, entity, where, page, row_filter)

    async def _select(
        self, connector: str, entity: str, where: Sequence[Condition], page: Page, row_filter: Condition | None,
    ) -> Selected:
        conn = self.connectors[connector]
        if row_filter is None:
            return Selected(await self._call(conn, entity, conn.select(entity, where, page)))
        check_row_filter(conn.department, row_filter)
        pushed = conn.supports(entity, row_filter.field, "prefix")
        self.metrics.row_filters.labels(connector, "pushed" if pushed else "post").inc()
        narrowed = narrow(where, row_filter)
        if narrowed is None:
            return Selected()  # the caller asked for a region outside its jurisdiction: no call
        return await self._admitted(conn, entity, narrowed if pushed else where, page, row_filter, pushed)

    async def _admitted(
        self, conn: Connector, entity: str, where: Sequence[Condition], page: Page, row_filter: Condition,
        pushed: bool,
    ) -> Selected:
        """A page of admitted records, read in widening source pages until full or out of budget.

        A pushed filter normally fills the page in the first call; every page read still passes
        ``admitted``, so a source that ignored the filter costs more calls, never a record outside
        the jurisdiction.
        """
        kept = Selected()
        after, size = page.after, page.limit
        for call in range(1, self.scan_budget.max_calls + 1):
            scan = replace(page, limit=size, after=after)
            batch = await self._call(conn, entity, conn.select(entity, where, scan))
            admitted_batch = admitted(batch, row_filter)
            if pushed and len(admitted_batch) < len(batch):
                log.warning("%s.%s returned %d records outside the pushed row filter or without a code",
                            conn.name, entity, len(batch) - len(admitted_batch))
            kept.extend(admitted_batch[: page.limit - len(kept)])
            if len(kept) == page.limit or len(batch) < size:
                return kept  # full, or the source has no more
            if call < self.scan_budget.max_calls:
                after = batch[-1][page.order_by]
                size = max(page.limit, min(size * 2, self.scan_budget.max_scan))
        kept.truncated = True
        return kept

    async def _call(self, conn: Connector, entity: str, call: Any) -> list[Record]:
        breaker = self.breakers.get(conn.name)
        if breaker is not None and not breaker.allows():
            call.close()  # never started: the department is not asked while its breaker is open
            self.metrics.breaker_refusals.labels(conn.name).inc()
            raise SourceError(conn.department, "provider", (
                f"not asked: it failed repeatedly; the hub asks again in {breaker.retry_in():.1f} s"
            ))
        self._calls[(conn.name, entity)].inc()
        started = time.perf_counter()
        try:
            records: list[Record] = await call
        except SourceError as exc:
            self._verdict(breaker, exc.side == "provider")
            _failed(exc.side)
            self.health.called(conn.name, time.perf_counter() - started, exc.side, str(exc))
            self.metrics.source_errors.labels(conn.name, exc.side).inc()
            log.warning("source call failed: %s", exc)
            raise
        except Exception as exc:
            self._verdict(breaker, None)
            # A bug or an unexpected library error on our side: never blame the provider for it.
            _failed("hub")
            self.health.called(conn.name, time.perf_counter() - started, "hub", repr(exc))
            self.metrics.source_errors.labels(conn.name, "hub").inc()
            log.exception("hub failed calling %s.%s", conn.name, entity)
            raise SourceError(conn.department, "hub", "the hub failed to query this source") from exc
        except BaseException:  # cancelled (the operation's time ran out): no verdict on the department
            self._verdict(breaker, None)
            raise
        finally:
            self._seconds[conn.name].observe(time.perf_counter() - started)
        self._verdict(breaker, False)
        self.health.called(conn.name, time.perf_counter() - started)
        return records

    @staticmethod
    def _verdict(breaker: Breaker | None, provider_failed: bool | None) -> None:
        if breaker is None:
            return
        if provider_failed is None:
            breaker.released()
        elif provider_failed:
            breaker.failed()
        else:
            breaker.succeeded()

    def breaker_states(self) -> dict[str, str]:
        """Each department's circuit breaker: closed, open or half_open (``/readyz`` details)."""
        return {name: breaker.state for name, breaker in sorted(self.breakers.items())}

    async def aclose(self) -> None:
        for conn in self.connectors.values():
            await conn.aclose()
        await self.cache.aclose()


def _about(connector: str, entity: str) -> dict[str, str]:
    return {"hub.department": connector, "hub.entity": entity}


def _failed(side: str) -> None:
    """The department span in force records which side failed (``provider`` or ``hub``)."""
    span = trace.get_current_span()
    span.set_attribute("hub.failed_side", side)
    span.set_status(StatusCode.ERROR)


def _state_value(breaker: Breaker) -> Callable[[], float]:
    """The breaker's state as the gauge shows it, read at each scrape."""
    return lambda: STATE_VALUES[breaker.state]
