"""Prometheus metrics, one registry per app (no import-time globals: tests build many apps).

``hub_source_calls_total`` counts calls into department sources, so "fetched once" is measured.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.source_calls = Counter(
            "hub_source_calls", "Calls into department sources", ["connector", "entity"],
            registry=self.registry,
        )
        self.source_errors = Counter(
            "hub_source_errors", "Failed calls into department sources", ["connector", "side"],
            registry=self.registry,
        )
        self.cache_hits = Counter(
            "hub_cache_hits", "Entity cache hits", ["connector"], registry=self.registry
        )
        self.cache_misses = Counter(
            "hub_cache_misses", "Entity cache misses", ["connector"], registry=self.registry
        )
        # Jurisdiction row filters on selects: pushed into the source query, or applied after fetch.
        self.row_filters = Counter(
            "hub_row_filter", "Row-filtered selects by how the filter was applied", ["connector", "mode"],
            registry=self.registry,
        )
        self.requests = Counter(
            "hub_graphql_requests", "GraphQL requests by outcome", ["outcome"], registry=self.registry
        )
        self.cache_bypassed = Counter(
            "hub_cache_bypassed", "Entity cache reads and writes skipped because its store failed",
            registry=self.registry,
        )
        self.breaker_state = Gauge(
            "hub_source_breaker_state", "Each department's circuit breaker: 0 closed, 1 half open, 2 open",
            ["connector"], registry=self.registry,
        )
        self.breaker_refusals = Counter(
            "hub_source_breaker_refusals", "Department calls not made because the breaker was open",
            ["connector"], registry=self.registry,
        )
        # The hub's own dependencies failing (hub/faults): 503s by code.
        self.unavailable = Counter(
            "hub_unavailable", "Requests answered 503 because a dependency of the hub failed", ["code"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "hub_graphql_request_seconds", "GraphQL request latency", registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        # The subgraph endpoints' share of the above, by subgraph and by gateway ("" for a system's token).
        self.subgraph_requests = Counter(
            "hub_subgraph_requests", "Subgraph endpoint requests by subgraph, gateway and HTTP status",
            ["subgraph", "gateway", "status"], registry=self.registry,
        )
        self.subgraph_seconds = Histogram(
            "hub_subgraph_request_seconds", "Subgraph endpoint latency by subgraph and gateway",
            ["subgraph", "gateway"], registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )

        # The same story per operation kind (query, mutation) and per department source, so production shows
        # where the time goes as the bench does: an executed operation from its document to its audit record,
        # and each call into a department's source (a cache hit makes none).
        self.operation_seconds = Histogram(
            "hub_graphql_operation_seconds", "Executed GraphQL operations' latency by operation kind", ["kind"],
            registry=self.registry, buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.source_seconds = Histogram(
            "hub_source_seconds", "Department source calls' latency", ["connector"], registry=self.registry,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )

    def value(self, name: str, **labels: str) -> float:
        """Current value of a sample, e.g. ``value("hub_source_calls_total", connector="market", ...)``."""
        found = self.registry.get_sample_value(name, labels)
        return 0.0 if found is None else found

    async def endpoint(self, request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)
