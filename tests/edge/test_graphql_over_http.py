"""GraphQL over HTTP: every audit of the ``graphql-http`` conformance suite passes, over a real socket.

The audits come from the npm package ``graphql-http`` (tests/peers, installed by ``make test``);
``tests/peers/audit.mjs`` lists them and runs them. Ids are read once, at collection, so each audit
is its own test; the audit run itself happens once per module against one running hub.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from hub.app import create_app
from hub.demo.services import serve_in_thread
from tests.graph.conftest import DepartmentServices, hub_settings

AUDIT_SCRIPT = Path(__file__).resolve().parents[1] / "peers" / "audit.mjs"
NO_NODE = "Node.js (node) is not installed: the GraphQL-over-HTTP audits run on it"


def _node_audit(*args: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        ["node", str(AUDIT_SCRIPT), *args], check=True, capture_output=True, text=True, timeout=120
    )
    return [orjson.loads(line) for line in done.stdout.splitlines() if line.strip()]


@functools.cache
def _audit_ids() -> list[str]:
    if shutil.which("node") is None:
        return ["node-missing"]
    return [audit["id"] for audit in _node_audit("--list")]


def _require_node() -> None:
    if shutil.which("node") is not None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{NO_NODE}; CI must provide it")
    pytest.skip(NO_NODE)


@pytest.fixture(scope="module")
def audit_results(demo_data_dir: Path, services: DepartmentServices) -> Iterator[dict[str, dict[str, Any]]]:
    _require_node()
    settings = hub_settings(demo_data_dir, services.ecology.url, services.security.url)
    with serve_in_thread(create_app(settings)) as running:
        results = _node_audit(running.url + "/graphql")
    yield {result["id"]: result for result in results}


@pytest.mark.parametrize("audit_id", _audit_ids())
def test_graphql_over_http_audit_passes(audit_results: dict[str, dict[str, Any]], audit_id: str) -> None:
    result = audit_results[audit_id]
    assert result["status"] == "ok", f"{audit_id} {result['name']}: {result['status']}: {result['reason']}"
