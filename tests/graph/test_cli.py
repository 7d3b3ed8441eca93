"""The ``hub`` command as a new user and an operator meet it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.app import create_app
from hub.cli import main
from hub.demo.services import serve_in_thread
from tests.graph.conftest import DepartmentServices, hub_settings

OPS_TOKEN = "t" * 40


def test_help_lists_every_command() -> None:
    out = subprocess.run([sys.executable, "-m", "hub.cli", "--help"], capture_output=True, text=True, check=True)
    for command in ("demo", "serve", "graphiql", "cache"):
        assert command in out.stdout


def test_no_command_prints_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: hub" in capsys.readouterr().out


def test_demo_generate_writes_one_database_per_department(tmp_path: Path) -> None:
    code = main(["demo", "generate", "--data-dir", str(tmp_path), "--enterprises", "50", "--as-of", "2026-11-01"])
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "centre.sqlite", "ecology.sqlite", "housing.sqlite", "market.sqlite", "security.sqlite", "taxation.sqlite",
    ]


def test_bad_settings_stop_with_a_message(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HUB_CACHE_URL", "memcached://nowhere")
    assert main(["cache", "invalidate", "market", "enterprise", "--all"]) == 2
    assert "HUB_CACHE_URL" in capsys.readouterr().err


def test_cache_invalidate_by_key_makes_the_next_query_fetch_again(
    demo_data_dir: Path, services: DepartmentServices, demo_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = hub_settings(demo_data_dir, services.ecology.url, services.security.url, ops_token=OPS_TOKEN)
    app = create_app(settings)
    running = serve_in_thread(app)
    try:
        port = running.url.rsplit(":", 1)[1]
        uscc = demo_db("market", "SELECT uscc FROM enterprises LIMIT 1")[0]["uscc"]
        query = {"query": f'{{ enterprise(uscc: "{uscc}") {{ name }} }}'}
        calls = lambda: app.state.hub.metrics.value("hub_source_calls_total", connector="market", entity="enterprise")  # noqa: E731
        httpx.post(running.url + "/graphql", json=query)
        httpx.post(running.url + "/graphql", json=query)
        assert calls() == 1
        monkeypatch.setenv("HUB_OPS_TOKEN", OPS_TOKEN)
        monkeypatch.setenv("HUB_PORT", port)
        assert main(["cache", "invalidate", "market", "enterprise", uscc]) == 0
        httpx.post(running.url + "/graphql", json=query)
        assert calls() == 2
        assert main(["cache", "invalidate", "market", "enterprise", "--all"]) == 0
        httpx.post(running.url + "/graphql", json=query)
        assert calls() == 3
    finally:
        running.stop()


async def test_ops_endpoint_refuses_without_the_operator_token(
    demo_data_dir: Path, services: DepartmentServices
) -> None:
    for token, expected in ((None, 404), (OPS_TOKEN, 401)):
        settings = hub_settings(demo_data_dir, services.ecology.url, services.security.url, ops_token=token)
        app = create_app(settings)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as client:
            response = await client.post(
                "/ops/cache/invalidate", json={"connector": "market", "entity": "enterprise"},
                headers={"Authorization": "Bearer wrong"},
            )
            assert response.status_code == expected


async def test_ops_endpoint_rejects_unknown_connectors_and_bad_keys(
    demo_data_dir: Path, services: DepartmentServices
) -> None:
    settings = hub_settings(demo_data_dir, services.ecology.url, services.security.url, ops_token=OPS_TOKEN)
    app = create_app(settings)
    auth = {"Authorization": f"Bearer {OPS_TOKEN}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as client:
        for body in (
            {"connector": "nope", "entity": "enterprise"},
            {"connector": "market", "entity": "nope"},
            {"connector": "market", "entity": "enterprise", "keys": "not-a-list"},
            {"connector": "market", "entity": "enterprise", "keys": [1, 2]},
            ["not", "an", "object"],
        ):
            response = await client.post("/ops/cache/invalidate", json=body, headers=auth)
            assert response.status_code == 400, body
            assert response.json()["error"]
