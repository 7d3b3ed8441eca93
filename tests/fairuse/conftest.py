"""Fair-use fixtures: the counters on both implementations, and a hub whose callers a test names.

``counters`` runs each contract test on the in-process counters and on real Redis (keys under the
test's own prefix, deleted afterwards). ``fair_hub(...)`` opens the demo hub (tests/graph) with the
given ``[fair_use]`` settings; each request's caller is the client the ``X-Test-Client`` header names,
with the limits and quotas a test gave that client (``hub.callers``): these tests are about the
limits, not about tokens (``test_registry_limits`` runs them with real tokens and the registry).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.requests import Request

from hub.context import Caller
from hub.fairuse.counters import Counters, MemoryCounters, RedisCounters
from hub.fairuse.limits import ClientLimits, FairUseSettings
from tests.graph.conftest import (
    DepartmentServices,
    HubClient,
    hub_settings,
    open_hub,
)

GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.fixture(params=["memory", "redis"])
async def counters(request: pytest.FixtureRequest) -> AsyncIterator[Counters]:
    if request.param == "memory":
        found: Counters = MemoryCounters()
    else:
        found = RedisCounters(request.getfixturevalue("redis_url"), prefix=request.getfixturevalue("redis_prefix"))
    yield found
    await found.aclose()


class FairHub(HubClient):
    """The hub, its callers by name (limits and quotas a test sets), and a clock the test moves."""

    callers: dict[str, Caller]
    now: float

    async def send(self, client: str, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        headers = {"accept": GRAPHQL_RESPONSE, "x-test-client": client, "x-hub-purpose": "licensing"}
        return await self.http.post("/graphql", json=body, headers=headers)

    def client(self, name: str, limits: ClientLimits | None = None, quotas: dict[str, int] | None = None) -> str:
        self.callers[name] = Caller(
            client_id=name, department="housing", purpose="licensing", unrestricted=True,
            limits=limits, quotas=quotas or {},
            registry_seen=1,  # as a token's client read at the registry's change counter (hub.oauth.live)
        )
        return name

    def refusals(self, client: str, kind: str) -> float:
        return self.hub.metrics.value("hub_fair_use_refusals_total", client=client, kind=kind)


OpenFairHub = Callable[..., AbstractAsyncContextManager[FairHub]]


@pytest.fixture
def fair_hub(demo_data_dir: Path, services: DepartmentServices) -> OpenFairHub:
    @asynccontextmanager
    async def open_with(fair_use: FairUseSettings | None = None, **overrides: Any) -> AsyncIterator[FairHub]:
        settings = hub_settings(
            demo_data_dir, services.ecology.url, services.security.url,
            fair_use=fair_use or FairUseSettings(), **overrides,
        )
        callers: dict[str, Caller] = {}

        async def caller(request: Request) -> Caller:
            return callers[request.headers["x-test-client"]]

        async with open_hub(settings, authenticate=caller) as opened:
            client = FairHub(opened.http, opened.hub)
            client.callers, client.now = callers, 1_800_000_000.0  # 2027-01-15 08:00 UTC, mid-minute
            client.hub.fair_use.clock = lambda: client.now
            yield client

    return open_with


def with_defaults(**changes: Any) -> FairUseSettings:
    return dataclasses.replace(FairUseSettings(), defaults=dataclasses.replace(FairUseSettings().defaults, **changes))
