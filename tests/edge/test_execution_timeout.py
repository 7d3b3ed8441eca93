"""An operation that runs past execution_timeout is answered with TIMEOUT and its work is cancelled."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hub.demo.services import RunningService, serve_in_thread
from hub.graphql.limits import Limits
from tests.edge.conftest import caller_from_header, refusal_of, send
from tests.graph.conftest import DepartmentServices, hub_settings, open_hub

QUERY = "query($u: String!) { enterprise(uscc: $u) { name dischargePermits { number } } }"


@pytest.fixture
def slow_ecology() -> Iterator[RunningService]:
    """An Ecology department whose permits take 3 s: longer than the operation may run. After the
    test the requests still waiting are let go, so the service stops without waiting them out."""
    released = threading.Event()

    async def slow_permits(request: Request) -> JSONResponse:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and not released.is_set():
            await asyncio.sleep(0.05)
        return JSONResponse({"items": [], "count": 0})

    with serve_in_thread(Starlette(routes=[Route("/api/v1/discharge-permits", slow_permits)])) as slow:
        try:
            yield slow
        finally:
            released.set()


def _dispatches_in_flight() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if "EntityLoader._dispatch" in repr(t.get_coro())]


async def test_an_operation_past_execution_timeout_gets_timeout_and_its_fetches_are_cancelled(
    demo_data_dir: Path, services: DepartmentServices, slow_ecology: RunningService, some_uscc: str
) -> None:
    settings = hub_settings(
        demo_data_dir, slow_ecology.url, services.security.url,
        sources={"ecology": {"url": slow_ecology.url, "timeout": 10}}, limits=Limits(execution_timeout=0.5),
    )
    async with open_hub(settings, authenticate=caller_from_header) as hub:
        started = time.monotonic()
        response = await send(hub, QUERY, {"u": some_uscc})
        assert time.monotonic() - started < 2
        error = refusal_of(response, 504)
        assert error["extensions"]["code"] == "TIMEOUT"
        assert "execution_timeout = 0.5" in error["message"]
        await asyncio.sleep(0.05)  # one turn for the cancelled fetches to unwind
        assert _dispatches_in_flight() == []


async def test_a_timeout_is_200_with_errors_for_application_json_clients(
    demo_data_dir: Path, services: DepartmentServices, slow_ecology: RunningService, some_uscc: str
) -> None:
    settings = hub_settings(
        demo_data_dir, slow_ecology.url, services.security.url,
        sources={"ecology": {"url": slow_ecology.url, "timeout": 10}}, limits=Limits(execution_timeout=0.3),
    )
    async with open_hub(settings, authenticate=caller_from_header) as hub:
        response = await send(hub, QUERY, {"u": some_uscc}, accept="application/json")
        assert refusal_of(response, 200)["extensions"]["code"] == "TIMEOUT"


async def test_an_operation_within_execution_timeout_is_answered(
    demo_data_dir: Path, services: DepartmentServices, some_uscc: str
) -> None:
    settings = hub_settings(demo_data_dir, services.ecology.url, services.security.url,
                            limits=Limits(execution_timeout=5))
    async with open_hub(settings, authenticate=caller_from_header) as hub:
        response = await send(hub, QUERY, {"u": some_uscc})
        assert response.status_code == 200 and "errors" not in response.json()
