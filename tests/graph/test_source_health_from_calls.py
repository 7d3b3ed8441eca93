"""The health the console shows comes from the graph's own calls: a department that stops answering
turns down with the provider blamed, the others stay up, and cache hits count."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hub.demo import ecology_service
from hub.demo.services import serve_in_thread
from tests.graph.conftest import DepartmentServices, HubClient, hub_settings, open_hub

QUERY = "query($u: String!) { enterprise(uscc: $u) { name dischargePermits { number } } }"


@pytest.fixture
async def own_ecology(demo_data_dir: Path, services: DepartmentServices) -> AsyncIterator[tuple[HubClient, Any]]:
    ecology = serve_in_thread(ecology_service.create_app(demo_data_dir / "ecology.sqlite"))
    async with open_hub(hub_settings(demo_data_dir, ecology.url, services.security.url)) as client:
        yield client, ecology
    ecology.stop()


async def test_a_department_that_stops_answering_turns_down_and_the_provider_is_blamed(
    own_ecology: tuple[HubClient, Any], demo_db: Any,
) -> None:
    hub, ecology = own_ecology
    holders = sorted({r["holder_uscc"] for r in demo_db("ecology", "SELECT holder_uscc FROM discharge_permits")})
    await hub.query(QUERY, {"u": holders[0]})
    await hub.query(QUERY, {"u": holders[0]})  # the second answer comes from the entity cache
    health = hub.hub.sources.health
    assert health.report("ecology").state == "up" and health.report("ecology").calls >= 1
    assert health.report("market").cache_hit_rate == 0.5

    ecology.stop()
    for uscc in holders[1:4]:
        await hub.query(QUERY, {"u": uscc})
    ecology_now, market_now = health.report("ecology"), health.report("market")
    assert ecology_now.state == "down" and ecology_now.error_rate is not None and ecology_now.error_rate > 0.5
    assert ecology_now.last_failure is not None and ecology_now.last_failure.side == "provider"
    assert market_now.state == "up" and market_now.error_rate == 0.0
