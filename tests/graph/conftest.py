"""The hub over the demo departments, in-process, with the two HTTP departments served for real
(``services``, one pair for the whole run: tests/conftest.py)."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile

import dataclasses
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.app import build_hub, compose_app
from hub.auth import Authenticator
from hub.composition import Hub
from hub.settings import load_settings
from tests.conftest import DEMO_AS_OF, DepartmentServices


def hub_settings(demo_data_dir: Path, ecology_url: str, security_url: str, **overrides: Any) -> Any:
    sources = {
        "ecology": {"url": ecology_url},
        "security": {"url": security_url + "/graphql"},
        **overrides.pop("sources", {}),
    }
    overrides.setdefault("anonymous_access", True)  # the graph tests are about the graph, not tokens
    overrides.setdefault("state_dir", _state_dir())  # registry and audit of this test run, nobody else's
    return load_settings(
        environment="development", demo_data_dir=demo_data_dir, sources=sources, today=DEMO_AS_OF, **overrides
    )


@functools.cache
def _state_dir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="hub-test-state-"))
    atexit.register(shutil.rmtree, path, True)
    return path


class HubClient:
    """The hub app in-process, plus helpers a test reads like a user would."""

    def __init__(self, client: httpx.AsyncClient, hub: Hub) -> None:
        self.http = client
        self.hub = hub

    async def query(self, query: str, variables: dict[str, Any] | None = None, **headers: str) -> dict[str, Any]:
        response = await self.http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def source_calls(self, connector: str, entity: str) -> float:
        return self.hub.metrics.value("hub_source_calls_total", connector=connector, entity=entity)

    def all_source_calls(self) -> dict[tuple[str, str], float]:
        return {
            key: self.source_calls(*key)
            for key in ((c, e) for c, conn in self.hub.sources.connectors.items() for e in conn.entities())
        }


@asynccontextmanager
async def open_hub(
    settings: Any, *, authenticate: Authenticator | None = None, adapt: Callable[[Hub], Hub] | None = None,
) -> AsyncIterator[HubClient]:
    """The hub as ``create_app`` composes it; ``authenticate``: who its callers are instead (tests of
    the graph, policies and the edge name their callers), ``adapt``: other parts changed before the
    app is composed over them."""
    hub = build_hub(settings)
    if authenticate is not None:
        hub = dataclasses.replace(hub, authenticate=authenticate)
    if adapt is not None:
        hub = adapt(hub)
    app = compose_app(hub)
    await hub.database.open()  # as the lifespan would, before the fixtures write to the registry
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test") as client:
            yield HubClient(client, hub)
    finally:
        await hub.aclose()


@pytest.fixture
async def hub(demo_data_dir: Path, services: DepartmentServices) -> AsyncIterator[HubClient]:
    settings = hub_settings(demo_data_dir, services.ecology.url, services.security.url)
    async with open_hub(settings) as client:
        yield client
