"""Fair-use counts on the hub's ``/metrics``: refusals per client and kind, and fallback admissions.

``hub_fair_use_refusals_total{client, kind}``: ``kind`` is ``rate``, ``cost_per_minute``,
``cost_per_day``, ``quota`` or ``unavailable`` (a quota that could not be counted). The client label
is a registered client id (or ``anonymous``): bounded by the registry, never by what callers send.

``hub_fair_use_quota_counts_total{path}``: answers of quota'd clients counted ``reserved`` (within the
room their admission held: no round trip on the request's path, the count sent after the answer),
``lease`` (past it, the rest drawn from the replica's lease: no round trip either) or ``exact`` (the
count awaited before the answer). ``hub_fair_use_unsettled_total``: counts sent after an
answer that did not reach the counters (their reservations keep counting as used for the day).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class FairUseMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.refusals = Counter(
            "hub_fair_use_refusals", "Requests refused by fair-use limits", ["client", "kind"], registry=registry
        )
        self.fallbacks = Counter(
            "hub_fair_use_local_admissions",
            "Rate and cost checks decided by this replica alone while the shared counters were unreachable",
            registry=registry,
        )
        self.counts = Counter(
            "hub_fair_use_quota_counts",
            "Quota'd answers counted within their reservation, from the replica's lease, or exactly", ["path"],
            registry=registry,
        )
        self.unsettled = Counter(
            "hub_fair_use_unsettled",
            "Counts sent after an answer that failed; their reservations keep counting as used for the day",
            registry=registry,
        )
