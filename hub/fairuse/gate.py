"""Fair use at the GraphQL edge: one check before an operation runs, one count after it ran.

``admit`` (before): the client's token bucket and cost budgets; refused, nothing runs and nothing is
recorded as disclosed (HTTP 429, ``Retry-After``, ``RATE_LIMITED`` or ``COST_BUDGET_EXCEEDED``).
``disclose`` (after execution, before the audit record): the quotas the data owners set on the
client's grants, counted from what the answer actually disclosed. An answer that would pass a quota
is refused whole (HTTP 429, ``FORBIDDEN`` with ``reason: "quota"``): which subjects of a list would
be the "over-quota" ones depends only on the order resolvers ran in, so nulling some would hand out
an arbitrary part of the answer; refused whole, the answer, the count and the audit record agree
(all of it, or none), and the count is one atomic step per request, never a round trip per record.

Redis unreachable: quotas fail closed (HTTP 503 ``QUOTA_UNAVAILABLE``: an answer that cannot be
counted is not given), while rate limits and cost budgets fall back to this replica's own counters
with the same limits: an outage costs precision (each of N replicas admits up to the limit), never
availability. Both are logged once per outage and counted in ``/metrics``.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.audit.records import Pseudonyms
from hub.audit.subjects import Disclosed
from hub.context import Caller
from hub.fairuse.counters import (
    DAY, MINUTE, QUOTA_UNAVAILABLE, Admission, Counters, CountersUnavailable, MemoryCounters, Usage,
)
from hub.fairuse.limits import ClientLimits, FairUseSettings
from hub.fairuse.metrics import FairUseMetrics
from hub.fairuse.quotas import FieldScopes, shown_under

log = logging.getLogger("hub.fairuse")
ANONYMOUS = "anonymous"  # the development demo's caller is limited too, under this name


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    message: str
    extensions: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    def outcome(self, request_id: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        error = {"message": self.message, "extensions": {**self.extensions, "requestId": request_id}}
        return self.status, {"errors": [error]}, self.headers


class FairUse:
    def __init__(
        self, settings: FairUseSettings, counters: Counters, metrics: FairUseMetrics, scopes_of: FieldScopes,
        pseudonyms: Callable[[], Awaitable[Pseudonyms]], clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.counters = counters
        self.metrics = metrics
        self.clock = clock
        self._scopes_of = scopes_of
        self._pseudonyms = pseudonyms
        self._local = MemoryCounters()  # this replica's own, while the shared counters are unreachable
        self._outage = False

    def limits_of(self, caller: Caller) -> ClientLimits:
        return caller.limits or self.settings.defaults

    def day(self, now: float) -> int:
        return int((now + self.settings.utc_offset_minutes * 60) // DAY)

    def day_ends(self, day: int) -> float:
        return (day + 1) * DAY - self.settings.utc_offset_minutes * 60

    async def admit(self, caller: Caller, cost: int) -> Refusal | None:
        """The check before execution: None when the operation may run (its token and cost counted)."""
        if not self.settings.enabled:
            return None
        client, limits, now = caller.client_id or ANONYMOUS, self.limits_of(caller), self.clock()
        try:
            admission = await self.counters.admit(client, limits, cost, now, self.day(now))
            self._recovered()
        except CountersUnavailable as exc:
            self._lost(exc)
            if caller.quotas:
                return self._unavailable(client)
            self.metrics.fallbacks.inc()
            admission = await self._local.admit(client, limits, cost, now, self.day(now))
        if admission.refused is None:
            return None
        self.metrics.refusals.labels(client, admission.refused).inc()
        if admission.refused == "rate":
            return _rate_limited(limits, admission)
        return self._over_budget(limits, admission, cost, now)

    async def disclose(self, caller: Caller, disclosed: Disclosed) -> Refusal | None:
        """The count after execution: None when every quota holds (the new subjects are then counted)."""
        if not (self.settings.enabled and caller.quotas and len(disclosed)):
            return None
        client, now = caller.client_id or ANONYMOUS, self.clock()
        shown = shown_under(disclosed, self._scopes_of, caller.quotas, await self._pseudonyms())
        if not shown:
            return None
        counted = {scope: (caller.quotas[scope], refs) for scope, refs in shown.items()}
        day = self.day(now)
        try:
            refused = await self.counters.disclose(client, day, counted)
            self._recovered()
        except CountersUnavailable as exc:
            self._lost(exc)
            return self._unavailable(client)
        if refused is None:
            return None
        self.metrics.refusals.labels(client, "quota").inc()
        quota, resets = caller.quotas[refused.scope], self.day_ends(day)
        message = (
            f"the answer would show {refused.asked} more subjects under {refused.scope}, whose grant allows "
            f"{quota} a day; {refused.used} shown today, {max(0, quota - refused.used)} left; the quota "
            f"refills at {_iso(resets)} (the answer is refused whole; subjects shown today count once)"
        )
        extensions = {
            "code": "FORBIDDEN", "reason": "quota", "scope": refused.scope, "quota": quota,
            "used": refused.used, "asked": refused.asked, "resetsAt": _iso(resets),
        }
        return Refusal(429, message, extensions, {"Retry-After": _seconds(resets - now)})

    async def usage(self, client: str, limits: ClientLimits, scopes: Mapping[str, int]) -> Usage | None:
        """A client's consumption now (None when the shared counters cannot be read)."""
        now = self.clock()
        try:
            return await self.counters.usage(client, limits, now, self.day(now), list(scopes))
        except CountersUnavailable:
            return None

    def _over_budget(self, limits: ClientLimits, admission: Admission, cost: int, now: float) -> Refusal:
        per_minute = admission.refused == "cost_per_minute"
        budget = limits.cost_per_minute if per_minute else limits.cost_per_day
        refills = (now // MINUTE + 1) * MINUTE if per_minute else self.day_ends(self.day(now))
        window = "minute" if per_minute else "day"
        left = int(admission.left)
        never = " (more than the whole budget: it cannot run under this budget)" if cost > budget else ""
        message = (
            f"the operation costs {cost}; {left} is left of this client's budget of {budget} per {window}, "
            f"which refills at {_iso(refills)}{never}"
        )
        extensions = {
            "code": "COST_BUDGET_EXCEEDED", "budget": admission.refused, "cost": cost, "limit": budget,
            "left": left, "refillsAt": _iso(refills),
        }
        return Refusal(429, message, extensions, {"Retry-After": _seconds(refills - now)})

    def _unavailable(self, client: str) -> Refusal:
        self.metrics.refusals.labels(client, "unavailable").inc()
        message = (
            "the disclosure quotas on this client's grants cannot be counted right now (the hub's counter "
            "store is unreachable), so no answer is given; try again shortly"
        )
        return Refusal(503, message, {"code": QUOTA_UNAVAILABLE}, {"Retry-After": "1"})

    def _lost(self, exc: CountersUnavailable) -> None:
        if not self._outage:
            self._outage = True
            log.warning(
                "fair-use counters unreachable (%s): quotas refuse with 503, rate limits and cost budgets "
                "are counted by each replica on its own until they are back", exc,
            )

    def _recovered(self) -> None:
        if self._outage:
            self._outage = False
            log.warning("fair-use counters reachable again: limits are shared by every replica once more")


def _rate_limited(limits: ClientLimits, admission: Admission) -> Refusal:
    message = (
        f"this client is over its rate limit ({limits.rate:g} requests per second, bursts of {limits.burst}); "
        f"nothing was run: retry after {admission.retry_after:.2f} s"
    )
    extensions = {
        "code": "RATE_LIMITED", "rate": limits.rate, "burst": limits.burst,
        "retryAfter": round(admission.retry_after, 3),
    }
    return Refusal(429, message, extensions, {"Retry-After": _seconds(admission.retry_after)})


def _seconds(delay: float) -> str:
    return str(max(1, math.ceil(delay)))


def _iso(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
