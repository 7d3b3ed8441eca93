"""A department that hangs costs its own fields, at once: after ``breaker_failures`` timeouts in a
row its breaker opens, and its fields come back ``SOURCE_UNAVAILABLE`` without waiting for the
source timeout; a probe after ``breaker_reset_seconds`` closes it once the department answers.
The breaker's state is in ``/metrics`` and in ``/readyz``'s details (without making the replica
unready: the other departments still serve)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hub.demo import ecology_service
from hub.demo.services import serve_in_thread
from tests.graph.conftest import DepartmentServices, HubClient, hub_settings, open_hub

SOURCE_TIMEOUT = 0.5
QUERY = "{ enterprises(first: 3) { edges { node { uscc name dischargePermits { number } } } } }"


class Switch:
    """Ecology served for real, or hanging, as the test says; ``released`` ends the hanging requests
    (30 s at most), so the service stops at once after the test instead of waiting out its grace."""

    def __init__(self) -> None:
        self.hanging = False
        self.released = threading.Event()

    async def hang(self) -> None:
        for _ in range(600):
            if self.released.is_set():
                return
            await asyncio.sleep(0.05)


@pytest.fixture
async def switchable_ecology(demo_data_dir: Path, services: DepartmentServices
                             ) -> AsyncIterator[tuple[HubClient, Switch]]:
    switch = Switch()
    real = ecology_service.create_app(demo_data_dir / "ecology.sqlite")

    async def hang_or_serve(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and switch.hanging:
            await switch.hang()
        await real(scope, receive, send)

    running = serve_in_thread(hang_or_serve)
    settings = hub_settings(
        demo_data_dir, running.url, services.security.url,
        sources={"ecology": {"url": running.url, "timeout": SOURCE_TIMEOUT, "cache_ttl": 0}},
        breaker_failures=2, breaker_reset_seconds=1.0,
    )
    try:
        async with open_hub(settings) as client:
            yield client, switch
    finally:
        switch.released.set()
        running.stop()


def ecology_errors(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in result.get("errors", []) if e["extensions"].get("department") == "ecology"]


async def timed(hub: HubClient) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    result = await hub.query(QUERY)
    return result, time.monotonic() - started


async def test_a_hanging_department_is_not_waited_for_once_its_breaker_opens(
    switchable_ecology: tuple[HubClient, Switch],
) -> None:
    hub, ecology = switchable_ecology
    await hub.query(QUERY)
    ecology.hanging = True
    for _ in range(2):  # two timeouts in a row open the breaker
        result, _ = await timed(hub)
        assert ecology_errors(result)
    calls = hub.source_calls("ecology", "discharge_permit")
    for _ in range(5):
        result, took = await timed(hub)
        assert took < SOURCE_TIMEOUT, f"waited {took:.2f} s for a department whose breaker is open"
        error, *_ = ecology_errors(result)  # one per enterprise whose permits were asked for
        assert error["extensions"]["code"] == "SOURCE_UNAVAILABLE"
        assert error["extensions"]["failedSide"] == "provider"
        assert all(edge["node"]["name"] for edge in result["data"]["enterprises"]["edges"])  # the rest comes
    assert hub.source_calls("ecology", "discharge_permit") == calls  # not asked while open
    assert hub.hub.metrics.value("hub_source_breaker_state", connector="ecology") == 2
    ready = await hub.http.get("/readyz")
    assert ready.json()["breakers"]["ecology"] == "open"
    assert ready.json()["breakers"]["market"] == "closed"


async def test_the_breaker_closes_on_the_first_probe_after_the_department_is_back(
    switchable_ecology: tuple[HubClient, Switch],
) -> None:
    hub, ecology = switchable_ecology
    ecology.hanging = True
    for _ in range(2):
        await hub.query(QUERY)
    ecology.hanging = False
    await asyncio.sleep(1.1)  # breaker_reset_seconds: half open
    assert hub.hub.metrics.value("hub_source_breaker_state", connector="ecology") == 1
    result = await hub.query(QUERY)
    assert not ecology_errors(result)
    assert hub.hub.metrics.value("hub_source_breaker_state", connector="ecology") == 0


async def test_a_failed_probe_opens_the_breaker_again(switchable_ecology: tuple[HubClient, Switch]) -> None:
    hub, ecology = switchable_ecology
    ecology.hanging = True
    for _ in range(2):
        await hub.query(QUERY)
    await asyncio.sleep(1.1)
    result, took = await timed(hub)  # the probe waits its timeout and fails
    assert ecology_errors(result) and took >= SOURCE_TIMEOUT
    result, took = await timed(hub)
    assert ecology_errors(result) and took < SOURCE_TIMEOUT
