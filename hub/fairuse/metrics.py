"""Fair-use counts on the hub's ``/metrics``: refusals per client and kind, and fallback admissions.

``hub_fair_use_refusals_total{client, kind}``: ``kind`` is ``rate``, ``cost_per_minute``,
``cost_per_day``, ``quota`` or ``unavailable`` (a quota that could not be counted). The client label
is a registered client id (or ``anonymous``): bounded by the registry, never by what callers send.
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
