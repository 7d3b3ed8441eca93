"""Two hub replicas, each its own OS process, sharing one Redis: one client's requests interleaved
across both meet one rate limit, one cost budget and one disclosure quota, not one per replica.

The replicas share a registry (SQLite) and an issuer (``http://hub.test``), so a token from one is
good at the other; the client's HTTP transport sends ``http://hub.test/...`` to a replica's port
(its DPoP proofs name the issuer's URL, as behind a load balancer).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from pathlib import Path

import httpx
import pytest

from hub.client import HubAuth, TokenRefused, new_client_key
from hub.fairuse.limits import ClientLimits
from hub.graphql.documents import DocumentCache
from hub.graphql.limits import Limits
from hub.grants import GrantService
from hub.store import Registry, connect
from hub.store.sealing import new_key_encryption_key
from hub.strawberry_bridge import graphql_schema
from schema import build_schema
from tests.audit.hub_process import HubProcess, hub_cli, running, write_settings
from tests.conftest import DEMO_AS_OF
from tests.graph.conftest import DepartmentServices
from tests.oauth.conftest import OPERATOR, grant_catalogue

pytestmark = [pytest.mark.slow, pytest.mark.redis]
ISSUER = "http://hub.test"
SCOPE = "market.enterprise:read"
LOOKUP = "query($u: String!) { enterprise(uscc: $u) { uscc name } }"


class ToReplica(httpx.AsyncBaseTransport):
    """Sends the issuer's URLs to one replica's port, as a load balancer would."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self._port)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


@pytest.fixture
def settings_file(
    tmp_path: Path, demo_data_dir: Path, redis_url: str, redis_prefix: str, services: DepartmentServices
) -> Path:
    path = write_settings(tmp_path / "hub.toml", {
        "environment": "development",
        "issuer": ISSUER,
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}",
        "state_dir": tmp_path / "state",
        "key_encryption_key": new_key_encryption_key(),
        "replay_cache_url": redis_url,
        "replay_cache_prefix": redis_prefix + "replay:",
        "fair_use_prefix": redis_prefix + "fair:",
        "demo_data_dir": demo_data_dir,
        "today": DEMO_AS_OF.isoformat(),
        "log_level": "WARNING",
        "sources": {
            "ecology": {"url": services.ecology.url}, "security": {"url": services.security.url + "/graphql"},
        },
    })
    done = hub_cli(path, "registry", "migrate")
    assert done.returncode == 0, done.stdout + done.stderr
    return path


Client = tuple[str, dict[str, object]]
WARM_UP = "{ __typename }"


def costs() -> tuple[int, int]:
    """What the hub charges a warm-up and a look-up (its own measure, as the replicas judge them)."""
    documents = DocumentCache(graphql_schema(build_schema()), Limits())
    return tuple(  # type: ignore[return-value]
        documents.judged_cost(documents.get(query), None, {"u": "x"})[0] for query in (WARM_UP, LOOKUP)
    )


async def registered(database_url: str) -> tuple[Client, Client, Client]:
    """Three housing clients granted Market Regulation's enterprises, with their private keys: one with a
    rate limit of its own (a burst of 12, hardly refilling), one whose grant has a quota of 7 a day, and
    one whose day budget takes its two warm-ups and exactly 8 look-ups."""
    engine = connect(database_url)
    try:
        registry = Registry(engine)
        for department in ("housing", "market"):
            await registry.add_department(department, department.title())
        service = GrantService(engine, grant_catalogue())
        made = []
        for name in ("batch", "checks", "budgeted"):
            key = new_client_key()
            client = await registry.register_client("housing", name, {k: v for k, v in key.items() if k != "d"})
            grant = await service.grant_now(OPERATOR, client.client_id, [SCOPE], ["licensing"], "test", 30)
            made.append((client.client_id, key, grant.grant_id))
        await registry.set_limits(made[0][0], ClientLimits(rate=0.001, burst=12))
        await service.set_quota(OPERATOR, made[1][2], 7)
        warm_up, lookup = costs()
        budget = ClientLimits(rate=1000.0, burst=1000, cost_per_day=2 * warm_up + 8 * lookup)
        await registry.set_limits(made[2][0], budget)
        return (made[0][0], made[0][1]), (made[1][0], made[1][1]), (made[2][0], made[2][1])
    finally:
        await engine.dispose()


def enterprises(demo_data_dir: Path, n: int) -> list[str]:
    with sqlite3.connect(demo_data_dir / "market.sqlite") as db:
        return [uscc for (uscc,) in db.execute("SELECT uscc FROM enterprises ORDER BY uscc LIMIT ?", (n,))]


async def warmed_up(client: httpx.AsyncClient) -> httpx.Response:
    """A first request; a replay cache that starts its epoch now refuses proofs of this very second once."""
    try:
        return await client.post("/graphql", json={"query": WARM_UP})
    except TokenRefused:
        await asyncio.sleep(1.1)
        return await client.post("/graphql", json={"query": WARM_UP})


async def interleaved(
    replicas: list[HubProcess], client_id: str, key: dict[str, object], usccs: list[str]
) -> list[tuple[str, int]]:
    """Each look-up at once, alternately to each replica; (replica, status) per request."""
    clients = [
        httpx.AsyncClient(
            base_url=ISSUER, transport=ToReplica(hub.port), timeout=60,
            auth=HubAuth(f"{ISSUER}/oauth/token", client_id, key, f"{ISSUER}/graphql", SCOPE),
            headers={"X-Hub-Purpose": "licensing", "accept": "application/graphql-response+json"},
        )
        for hub in replicas
    ]
    try:
        for client in clients:  # a token each, before the race
            assert (await warmed_up(client)).status_code == 200
        answers = await asyncio.gather(*(
            clients[i % 2].post("/graphql", json={"query": LOOKUP, "variables": {"u": uscc}})
            for i, uscc in enumerate(usccs)
        ))
        return [(replicas[i % 2].name, answer.status_code) for i, answer in enumerate(answers)]
    finally:
        for client in clients:
            await client.aclose()


def refusals(replicas: list[HubProcess], client_id: str, kind: str) -> dict[str, float]:
    found = {}
    for hub in replicas:
        line = f'hub_fair_use_refusals_total{{client="{client_id}",kind="{kind}"}} '
        text = httpx.get(f"{hub.url}/metrics").text
        found[hub.name] = sum(float(row[len(line):]) for row in text.splitlines() if row.startswith(line))
    return found


def test_two_replicas_enforce_one_rate_limit_one_cost_budget_and_one_disclosure_quota_per_client(
    settings_file: Path, tmp_path: Path, demo_data_dir: Path
) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}"
    (limited, limited_key), (capped, capped_key), (budgeted, budgeted_key) = asyncio.run(registered(database))
    with running(("east", "west"), settings_file, tmp_path) as replicas:
        answers = asyncio.run(interleaved(replicas, limited, limited_key, enterprises(demo_data_dir, 30)))
        assert Counter(status for _, status in answers) == {200: 10, 429: 20}  # 12 tokens, 2 taken to warm up
        refused = refusals(replicas, limited, "rate")
        assert sum(refused.values()) == 20 and all(n > 0 for n in refused.values()), refused

        answers = asyncio.run(interleaved(replicas, capped, capped_key, enterprises(demo_data_dir, 20)))
        assert Counter(status for _, status in answers) == {200: 7, 429: 13}  # 7 distinct, whichever replica
        refused = refusals(replicas, capped, "quota")
        assert sum(refused.values()) == 13 and all(n > 0 for n in refused.values()), refused

        answers = asyncio.run(interleaved(replicas, budgeted, budgeted_key, enterprises(demo_data_dir, 20)))
        assert Counter(status for _, status in answers) == {200: 8, 429: 12}  # one day budget, not two
        refused = refusals(replicas, budgeted, "cost_per_day")
        assert sum(refused.values()) == 12 and all(n > 0 for n in refused.values()), refused
