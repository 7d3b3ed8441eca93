"""The departments' subgraphs against real Federation peers: two composers and Apollo Gateway (Node.js).

Without Node.js or the peers' packages (``npm ci --prefix tests/peers``) these tests skip naming what
is missing; under ``CI=true`` they fail instead. Every Node.js process is terminated by its fixture.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.app import create_app
from hub.composition import Hub
from hub.demo.services import RunningService, serve_in_thread
from hub.federation.sdl import sdl_path
from schema.subgraphs import DEPARTMENTS

# The graph tests' fixtures, for this folder too.
from tests.graph.conftest import hub, hub_settings  # noqa: F401

PEERS = Path(__file__).resolve().parent.parent / "peers"
GATEWAY_START_SECONDS = 20.0


def require_node() -> str:
    """The ``node`` executable with the peers installed; skip (fail under CI) without them."""
    node = shutil.which("node")
    missing = None
    if node is None:
        missing = "Node.js (`node`) is not installed"
    elif not (PEERS / "node_modules" / "@apollo" / "gateway").is_dir():
        missing = "the Node.js peers are not installed (npm ci --prefix tests/peers)"
    if missing is None:
        return node  # type: ignore[return-value]
    if os.environ.get("CI"):
        pytest.fail(f"{missing}; CI must provide it")
    pytest.skip(missing)


def compose(composer: str, urls: dict[str, str] | None = None) -> dict[str, Any]:
    """Compose the checked-in subgraph SDL files with ``composer`` (apollo or guild)."""
    node = require_node()
    specs = [f"{d}={sdl_path(d)}" + (f"@{urls[d]}" if urls else "") for d in DEPARTMENTS]
    done = subprocess.run(
        [node, str(PEERS / "compose.mjs"), composer, *specs], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@dataclass
class Federated:
    """The hub served for real, and Apollo Gateway in front of its subgraphs."""

    hub: Hub
    hub_url: str
    gateway_url: str
    gateway_log: Path

    def hub_query(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return _post(self.hub_url + "/graphql", query, variables)

    def gateway_query(self, query: str, variables: dict[str, Any] | None = None, **headers: str) -> dict[str, Any]:
        return _post(self.gateway_url, query, variables, headers)

    def source_calls(self, connector: str, entity: str) -> float:
        return self.hub.metrics.value("hub_source_calls_total", connector=connector, entity=entity)


def _post(url: str, query: str, variables: dict[str, Any] | None, headers: dict[str, str] | None = None) -> Any:
    response = httpx.post(url, json={"query": query, "variables": variables}, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _await_url(process: subprocess.Popen[str], log: Path) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + GATEWAY_START_SECONDS
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.2)
        if ready:
            line = process.stdout.readline()
            if line:
                return json.loads(line)["url"]  # type: ignore[no-any-return]
        if process.poll() is not None:
            break
    raise RuntimeError(f"Apollo Gateway did not start: {log.read_text(encoding='utf-8')}")


@pytest.fixture(scope="module")
def hub_overrides() -> dict[str, Any]:
    """Settings for this module's hub beyond the demo's (a module may override this fixture)."""
    return {}


@pytest.fixture(scope="module")
def served_hub(
    demo_data_dir: Path, services: Any, hub_overrides: dict[str, Any]
) -> Iterator[tuple[Hub, RunningService]]:
    app = create_app(hub_settings(demo_data_dir, services.ecology.url, services.security.url, **hub_overrides))
    running = serve_in_thread(app)
    try:
        yield app.state.hub, running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def federated(
    served_hub: tuple[Hub, RunningService], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Federated]:
    running_hub, running = served_hub
    node = require_node()
    composed = compose("apollo", {d: f"{running.url}/subgraphs/{d}/graphql" for d in DEPARTMENTS})
    assert not composed["errors"], composed["errors"]
    directory = tmp_path_factory.mktemp("gateway")
    supergraph, log = directory / "supergraph.graphql", directory / "gateway.log"
    supergraph.write_text(composed["supergraphSdl"], encoding="utf-8")
    with log.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            [node, str(PEERS / "gateway.mjs"), str(supergraph)], stdout=subprocess.PIPE, stderr=stderr, text=True
        )
    try:
        yield Federated(running_hub, running.url, _await_url(process, log), log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
