"""A department that is down or slow costs only its own fields; the rest of the answer arrives."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hub.demo import ecology_service
from hub.demo.services import serve_in_thread
from tests.graph.conftest import DepartmentServices, HubClient, hub_settings, open_hub

QUERY = """
query($u: String!) {
  enterprise(uscc: $u) {
    name
    foodLicences { number }
    dischargePermits { number }
    licences { number }
    legalRepresentative { name identityVerification { verified } }
  }
}
"""


def _holder_with_discharge_and_food(demo_db: Any) -> str:
    food = {r["holder_uscc"] for r in demo_db("market", "SELECT holder_uscc FROM food_licences")}
    eco = [r["holder_uscc"] for r in demo_db("ecology", "SELECT holder_uscc FROM discharge_permits ORDER BY 1")]
    return next(u for u in eco if u in food)


@pytest.fixture
async def own_ecology(demo_data_dir: Path, services: DepartmentServices) -> AsyncIterator[tuple[HubClient, Any]]:
    """A hub whose Ecology service is this test's own, so the test may stop it."""
    ecology = serve_in_thread(ecology_service.create_app(demo_data_dir / "ecology.sqlite"))
    settings = hub_settings(demo_data_dir, ecology.url, services.security.url)
    async with open_hub(settings) as client:
        yield client, ecology
    ecology.stop()


async def test_department_stopped_mid_test_yields_null_and_an_error_naming_it(
    own_ecology: tuple[HubClient, Any], demo_db: Any
) -> None:
    hub, ecology = own_ecology
    uscc = _holder_with_discharge_and_food(demo_db)
    healthy = await hub.query(QUERY, {"u": uscc})
    assert "errors" not in healthy and healthy["data"]["enterprise"]["dischargePermits"]

    ecology.stop()
    await hub.hub.sources.cache.clear()
    result = await hub.query(QUERY, {"u": uscc})
    enterprise = result["data"]["enterprise"]
    assert enterprise["name"] == healthy["data"]["enterprise"]["name"]
    assert enterprise["foodLicences"] == healthy["data"]["enterprise"]["foodLicences"]
    assert enterprise["dischargePermits"] is None
    food_numbers = {lic["number"] for lic in enterprise["foodLicences"]}
    assert {lic["number"] for lic in enterprise["licences"]} >= food_numbers
    assert not any(lic["number"].endswith("P") for lic in enterprise["licences"])
    errors = result["errors"]
    assert {tuple(e["path"]) for e in errors} == {("enterprise", "dischargePermits"), ("enterprise", "licences")}
    for error in errors:
        assert error["extensions"]["code"] == "SOURCE_UNAVAILABLE"
        assert error["extensions"]["department"] == "ecology"
        assert error["extensions"]["failedSide"] == "provider"
        assert "Ecology" in error["message"]


async def test_department_slower_than_its_timeout_yields_null_and_a_timeout_error(
    demo_data_dir: Path, services: DepartmentServices, demo_db: Any
) -> None:
    released = threading.Event()  # after the test: the service stops without waiting its 3 s out

    async def slow_permits(request: Request) -> JSONResponse:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and not released.is_set():
            await asyncio.sleep(0.05)
        return JSONResponse({"items": [], "count": 0})

    slow = serve_in_thread(Starlette(routes=[Route("/api/v1/discharge-permits", slow_permits)]))
    try:
        settings = hub_settings(
            demo_data_dir, slow.url, services.security.url, sources={"ecology": {"url": slow.url, "timeout": 0.3}}
        )
        async with open_hub(settings) as hub:
            result = await hub.query(QUERY, {"u": _holder_with_discharge_and_food(demo_db)})
            assert result["data"]["enterprise"]["dischargePermits"] is None
            assert result["data"]["enterprise"]["foodLicences"] is not None
            error = next(e for e in result["errors"] if e["path"] == ["enterprise", "dischargePermits"])
            assert error["extensions"]["failedSide"] == "provider"
            assert "timed out" in error["message"]
    finally:
        released.set()
        slow.stop()


async def test_public_security_down_nulls_only_identity_verification(
    demo_data_dir: Path, services: DepartmentServices, demo_db: Any
) -> None:
    settings = hub_settings(demo_data_dir, services.ecology.url, "http://127.0.0.1:9")
    async with open_hub(settings) as hub:
        result = await hub.query(QUERY, {"u": _holder_with_discharge_and_food(demo_db)})
        rep = result["data"]["enterprise"]["legalRepresentative"]
        assert rep["name"] and rep["identityVerification"] is None
        [error] = result["errors"]
        assert error["path"] == ["enterprise", "legalRepresentative", "identityVerification"]
        assert error["extensions"]["department"] == "security"
