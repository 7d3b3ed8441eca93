"""Start-up and readiness: migrations are `hub migrate`'s step, a replica on a registry behind the
code refuses to start naming it, and ``/readyz`` follows PostgreSQL and Redis going away and coming
back, by itself, while ``/healthz`` keeps answering."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.app import create_app
from hub.settings import Settings
from hub.store import connect, migrate
from hub.store.revision import code_revision, database_revision
from tests.deploy.conftest import ISSUER, RedisServer, TcpProxy, production

HUB = [sys.executable, "-m", "hub.cli"]


def hub_command(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HUB, *args], env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=timeout, check=False)


def production_env(database_url: str, demo_data_dir: Path) -> dict[str, str]:
    from hub.store.sealing import new_key_encryption_key

    return {
        "HUB_ENV": "production", "HUB_ISSUER": ISSUER, "HUB_DATABASE_URL": database_url,
        "HUB_KEY_ENCRYPTION_KEY": new_key_encryption_key(), "HUB_SINGLE_PROCESS": "true",
        "HUB_DEMO_DATA": str(demo_data_dir), "HUB_MIGRATE_AT_START": "false",
    }


async def migrated_to(url: str, revision: str) -> None:
    engine = connect(url)
    try:
        await migrate(engine, revision)
    finally:
        await engine.dispose()


@asynccontextmanager
async def hub_at(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ISSUER) as http:
            yield http
    finally:
        await app.state.readiness.aclose()
        await app.state.hub.aclose()


async def eventually(probe: Callable[[], Any], expected: int, seconds: float = 15) -> httpx.Response:
    """The probe's answer once it has the expected status (or the last one when time is up)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        response: httpx.Response = await probe()
        if response.status_code == expected or asyncio.get_running_loop().time() > deadline:
            return response
        await asyncio.sleep(0.2)


@pytest.mark.postgres
async def test_a_replica_on_a_registry_behind_the_code_refuses_to_start_naming_hub_migrate(
    fresh_postgres: str, demo_data_dir: Path
) -> None:
    await migrated_to(fresh_postgres, "0008")
    env = production_env(fresh_postgres, demo_data_dir)
    refused = await asyncio.to_thread(hub_command, "serve", "--port", "1", env=env)
    assert refused.returncode == 2
    assert "the registry database is at revision 0008" in refused.stderr
    assert f"this hub needs revision {code_revision()}: run `hub migrate`" in refused.stderr


async def test_a_replica_on_an_empty_registry_refuses_to_start_and_does_not_migrate_it(
    tmp_path: Path, demo_data_dir: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}"
    env = production_env(url, demo_data_dir)
    refused = await asyncio.to_thread(hub_command, "serve", "--port", "1", env=env)
    assert refused.returncode == 2
    assert "the registry database is not migrated (no revision)" in refused.stderr
    assert "run `hub migrate`" in refused.stderr
    engine = connect(url)
    assert await database_revision(engine) is None
    await engine.dispose()


@pytest.mark.postgres
async def test_hub_migrate_brings_the_registry_to_the_codes_revision_once(
    fresh_postgres: str, demo_data_dir: Path
) -> None:
    env = production_env(fresh_postgres, demo_data_dir)
    behind = await asyncio.to_thread(hub_command, "migrate", "--check", env=env)
    assert behind.returncode == 1 and "run `hub migrate`" in behind.stdout
    first, second = await asyncio.gather(
        asyncio.to_thread(hub_command, "migrate", env=env), asyncio.to_thread(hub_command, "migrate", env=env)
    )
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    said = sorted([first.stdout.strip(), second.stdout.strip()])
    assert said == [f"the registry database is at revision {code_revision()} (was {code_revision()})",
                    f"the registry database is at revision {code_revision()} (was empty)"]
    ready = await asyncio.to_thread(hub_command, "migrate", "--check", env=env)
    assert ready.returncode == 0 and code_revision() in ready.stdout


@pytest.mark.parametrize("database_url", [None, ""], ids=["missing", "empty"])
def test_hub_migrate_in_production_needs_the_registry_named(database_url: str | None) -> None:
    env = {k: v for k, v in os.environ.items() if k != "HUB_DATABASE_URL"}
    if database_url is not None:
        env["HUB_DATABASE_URL"] = database_url
    done = subprocess.run([*HUB, "migrate"], env={**env, "HUB_ENV": "production"},
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "production needs HUB_DATABASE_URL" in done.stderr


async def test_no_request_migrates_a_production_registry_and_readyz_names_the_command(
    tmp_path: Path, demo_data_dir: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}"
    async with hub_at(production(url, demo_data_dir)) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        not_ready = await http.get("/readyz")
        assert not_ready.status_code == 503
        assert "run `hub migrate`" in not_ready.json()["checks"]["registry"]
        token = await http.post("/oauth/token", data={"grant_type": "client_credentials"})
        assert token.status_code >= 500
        engine = connect(url)
        assert await database_revision(engine) is None  # the request changed nothing
        await migrate(engine)
        await engine.dispose()
        ready = await eventually(lambda: http.get("/readyz"), 200)
        body = ready.json()  # its "breakers" details are not part of readiness
        assert (body["status"], body["checks"]) == ("ready", {"registry": "ok"})


@pytest.mark.postgres
async def test_readyz_follows_postgresql_going_away_and_coming_back_while_healthz_answers(
    postgres_proxy: tuple[TcpProxy, str], demo_data_dir: Path
) -> None:
    proxy, url = postgres_proxy
    await migrated_to(url, "head")
    async with hub_at(production(url, demo_data_dir)) as http:
        assert (await http.get("/readyz")).status_code == 200
        await proxy.cut()
        down = await eventually(lambda: http.get("/readyz"), 503)
        assert down.status_code == 503 and down.json()["status"] == "not ready"
        assert down.json()["checks"]["registry"].startswith(("unreachable", "no answer"))
        assert (await http.get("/healthz")).status_code == 200
        await proxy.restore()
        back = await eventually(lambda: http.get("/readyz"), 200)
        assert back.status_code == 200 and back.json()["checks"] == {"registry": "ok"}


@pytest.mark.redis
async def test_readyz_follows_a_configured_redis_going_away_and_coming_back(
    redis_server: RedisServer, tmp_path: Path, demo_data_dir: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}"
    await migrated_to(url, "head")
    settings = production(url, demo_data_dir, cache_url=redis_server.url, replay_cache_url=redis_server.url,
                          single_process=False)
    async with hub_at(settings) as http:
        ready = await http.get("/readyz")
        everything = {"registry": "ok", "cache": "ok", "replay_cache": "ok"}
        body = ready.json()  # its "breakers" details are not part of readiness
        assert (body["status"], body["checks"]) == ("ready", everything)
        redis_server.stop()
        down = await eventually(lambda: http.get("/readyz"), 503)
        assert down.status_code == 503
        assert down.json()["checks"]["registry"] == "ok"
        assert down.json()["checks"]["cache"].startswith(("unreachable", "no answer"))
        assert down.json()["checks"]["replay_cache"].startswith(("unreachable", "no answer"))
        assert (await http.get("/healthz")).status_code == 200
        redis_server.start()
        back = await eventually(lambda: http.get("/readyz"), 200)
        assert back.status_code == 200, back.text


async def test_development_migrates_its_own_registry_at_start_up(tmp_path: Path, demo_data_dir: Path) -> None:
    from hub.settings import load_settings

    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}"
    settings = load_settings(environment="development", database_url=url, demo_data_dir=demo_data_dir,
                             migrate_at_start=None)
    app = create_app(settings)
    async with app.router.lifespan_context(app):  # start-up, before any request
        engine = connect(url)
        assert await database_revision(engine) == code_revision()
        await engine.dispose()
