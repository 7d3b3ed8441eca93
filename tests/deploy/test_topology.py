"""The production topology proven on real processes: nginx from Debian terminating TLS (a CA the
test makes) in front of two ``hub serve`` replicas sharing PostgreSQL and Redis.

What one replica learns, the other knows: a token issued by one is accepted by the other, a DPoP
proof used at one is refused at the other, a grant revoked through the console is refused by both
on the next request, and ``hub cache invalidate`` reaches both. Concurrent load through nginx
leaves one audit log that verifies, and killing a replica mid-load fails only what was in flight
on it. The module takes about a minute (it starts nginx, a redis-server and two replicas once).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.accounts.store import Accounts
from hub.client import HubAuth
from hub.store import connect
from hub.store.sealing import new_key_encryption_key
from tests.admin.conftest import csrf_field
from tests.audit.hub_process import HubProcess, free_port
from tests.conftest import RUN_ID, postgres_database, require_service
from tests.deploy.conftest import RedisServer
from tests.deploy.topology import (
    NGINX,
    QUERY,
    WHO,
    Nginx,
    System,
    TlsFiles,
    hub_command,
    make_ca,
    register_system,
    start_nginx,
    start_replica,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

PASSWORD = "correct horse battery staple"


@dataclass
class Topology:
    nginx: Nginx
    replicas: list[HubProcess]
    env: dict[str, str]
    tls: TlsFiles
    data: Path
    database_url: str

    @property
    def issuer(self) -> str:
        return self.env["HUB_ISSUER"]

    async def system(self) -> System:
        return await register_system(self.database_url, self.issuer)

    def over_tls(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.nginx.url, verify=self.tls.context(), timeout=30)


@pytest.fixture(scope="module")
async def topology(tmp_path_factory: pytest.TempPathFactory, postgres_url: str,
                   demo_data_dir: Path) -> AsyncIterator[Topology]:
    if not NGINX.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{NGINX} is missing; `make test` installs it (nginx-light) in CI")
        pytest.skip(f"{NGINX} is missing (apt-get install nginx-light, as `make test` does as root)")
    require_service("PostgreSQL", "127.0.0.1", 5432)
    tmp = tmp_path_factory.mktemp("topology")
    redis = RedisServer(tmp)
    redis.start()
    data = Path(shutil.copytree(demo_data_dir, tmp / "data"))  # the test edits a record of its own copy
    async with postgres_database(postgres_url, f"hub_topology_{RUN_ID}_{uuid.uuid4().hex[:6]}") as database_url:
        port = free_port()
        env = {
            "HUB_ENV": "production", "HUB_ISSUER": f"https://127.0.0.1:{port}", "HUB_DATABASE_URL": database_url,
            "HUB_KEY_ENCRYPTION_KEY": new_key_encryption_key(), "HUB_CACHE_URL": redis.url,
            "HUB_REPLAY_CACHE_URL": redis.url.replace("/0", "/1"), "HUB_TRUSTED_PROXIES": "127.0.0.1",
            "HUB_OPS_TOKEN": "ops-" + "x" * 40, "HUB_DEMO_DATA": str(data), "HUB_MIGRATE_AT_START": "false",
        }
        migrated = hub_command(env, "migrate")
        assert migrated.returncode == 0, migrated.stderr
        replicas = [start_replica(name, env, tmp) for name in ("a", "b")]
        nginx = None
        try:
            for replica in replicas:
                replica.wait_ready()
            tls = make_ca(tmp)
            nginx = start_nginx(tmp / "nginx", tls, [r.port for r in replicas], port)
            topology = Topology(nginx, replicas, env, tls, data, database_url)
            system = await topology.system()  # the shared replay cache begins its epoch here
            await system.token_from(system.auth, replicas[0].url)
            yield topology
        finally:
            if nginx is not None:
                nginx.stop()
            for replica in replicas:
                replica.stop()
            redis.stop()


async def test_both_replicas_are_ready_behind_nginx(topology: Topology) -> None:
    async with topology.over_tls() as http:
        ready = await http.get("/readyz")
    body = ready.json()  # its "breakers" details are not part of readiness
    assert (body["status"], body["checks"]) == ("ready", {"registry": "ok", "cache": "ok", "replay_cache": "ok"})
    for replica in topology.replicas:
        async with httpx.AsyncClient(base_url=replica.url) as http:
            assert (await http.get("/readyz")).status_code == 200


async def test_a_token_issued_through_one_replica_is_accepted_by_the_other(topology: Topology) -> None:
    system = await topology.system()
    auth = system.auth
    first, second = topology.replicas
    token = await system.token_from(auth, first.url)
    answer = await system.ask(auth, second.url, token)
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["data"]["enterprises"]["edges"]) == 3


async def test_a_dpop_proof_used_at_one_replica_is_refused_at_the_other(topology: Topology) -> None:
    system = await topology.system()
    auth = system.auth
    first, second = topology.replicas
    token = await system.token_from(auth, first.url)
    proof = auth.proof("POST", f"{system.issuer}/graphql", token)
    assert (await system.query_at(first.url, token, proof)).status_code == 200
    replayed = await system.query_at(second.url, token, proof)
    assert replayed.status_code == 401
    assert 'error="invalid_dpop_proof"' in replayed.headers["www-authenticate"]
    assert "replayed" in replayed.headers["www-authenticate"] or "used" in replayed.headers["www-authenticate"]


async def test_a_grant_revoked_through_the_console_is_refused_by_both_replicas_on_the_next_request(
    topology: Topology,
) -> None:
    system = await topology.system()
    auth = system.auth
    token = await system.token_from(auth, topology.replicas[0].url)
    for replica in topology.replicas:
        assert (await system.ask(auth, replica.url, token)).status_code == 200
    await revoke_through_nginx(topology, system.grant_id)
    for replica in topology.replicas:
        refused = await system.ask(auth, replica.url, token)
        assert refused.status_code == 403, refused.text
        assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]


async def revoke_through_nginx(topology: Topology, grant_id: str) -> None:
    engine = connect(topology.database_url)
    try:
        await Accounts(engine).create(f"olga-{grant_id[-6:]}", "Olga Operator", "operator", PASSWORD)
    finally:
        await engine.dispose()
    origin = {"origin": topology.issuer}
    async with topology.over_tls() as http:
        page = await http.get("/admin/signin")
        csrf = csrf_field(page.text)  # the sign-in form's (the language form's is empty when signed out)
        signed_in = await http.post("/admin/signin", headers=origin, data={
            "csrf": csrf, "username": f"olga-{grant_id[-6:]}", "password": PASSWORD, "next": "/admin/"})
        assert signed_in.status_code == 303, signed_in.text
        token = (await http.get("/admin/api/me")).json()["csrf_token"]
        revoked = await http.post(f"/admin/api/grants/{grant_id}/revoke", json={"reason": "project ended"},
                                  headers={**origin, "x-csrf-token": token})
        assert revoked.status_code == 200, revoked.text


async def test_hub_cache_invalidate_reaches_both_replicas(topology: Topology) -> None:
    system = await topology.system()
    auth = system.auth
    first, second = topology.replicas
    token = await system.token_from(auth, first.url)
    uscc = (await system.ask(auth, first.url, token)).json()["data"]["enterprises"]["edges"][0]["node"]["uscc"]
    one = f'{{ enterprise(uscc: "{uscc}") {{ name }} }}'
    before = (await system.ask(auth, first.url, token, one)).json()["data"]["enterprise"]["name"]
    with sqlite3.connect(topology.data / "market.sqlite") as db:  # the department corrects its record
        db.execute("UPDATE enterprises SET name = ? WHERE uscc = ?", ("更正后的企业名称", uscc))
    assert (await system.ask(auth, second.url, token, one)).json()["data"]["enterprise"]["name"] == before  # cached
    done = hub_command({**topology.env, "HUB_PORT": str(first.port)}, "cache", "invalidate", "market", "enterprise", uscc)
    assert done.returncode == 0 and "invalidated 1 cache entry" in done.stdout, done.stdout + done.stderr
    for replica in (second, first):
        answer = await system.ask(auth, replica.url, token, one)
        assert answer.json()["data"]["enterprise"]["name"] == "更正后的企业名称"


async def load(topology: Topology, auth: HubAuth, requests: int, concurrency: int,
               on_done: Any = None) -> list[tuple[float, float, int | str]]:
    """``requests`` queries through nginx, ``concurrency`` at a time: (started, ended, status or error)."""
    outcomes: list[tuple[float, float, int | str]] = []
    queue = iter(range(requests))

    async def worker(http: httpx.AsyncClient) -> None:
        for _ in queue:
            started = time.monotonic()
            try:
                status: int | str = (await http.post("/graphql", json={"query": QUERY}, headers=WHO)).status_code
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            outcomes.append((started, time.monotonic(), status))
            if on_done is not None:
                on_done(len(outcomes))

    async with httpx.AsyncClient(base_url=topology.nginx.url, verify=topology.tls.context(), auth=auth,
                                 timeout=30, limits=httpx.Limits(max_connections=concurrency)) as http:
        assert (await http.post("/graphql", json={"query": QUERY}, headers=WHO)).status_code == 200  # a token
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
    return outcomes


async def served(replica: HubProcess) -> float:
    async with httpx.AsyncClient(base_url=replica.url) as http:
        metrics = (await http.get("/metrics")).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
               if line.startswith("hub_graphql_requests_total"))


async def test_concurrent_load_through_nginx_leaves_one_audit_log_that_verifies(topology: Topology) -> None:
    system = await topology.system()
    before = [await served(replica) for replica in topology.replicas]
    outcomes = await load(topology, system.auth, requests=120, concurrency=16)
    assert [status for _, _, status in outcomes] == [200] * 120
    after = [await served(replica) for replica in topology.replicas]
    assert all(b > a for a, b in zip(before, after, strict=True))  # nginx spread the load over both
    verified = hub_command(topology.env, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


async def test_killing_one_replica_mid_load_fails_only_the_requests_in_flight_on_it(topology: Topology) -> None:
    system = await topology.system()
    victim = topology.replicas[1]
    killed_at: list[float] = []

    def kill_midway(done: int) -> None:
        if done == 60 and not killed_at:
            victim.process.send_signal(signal.SIGKILL)
            victim.process.wait(5)  # gone, its sockets closed by the kernel: later requests are "after"
            killed_at.append(time.monotonic())

    concurrency = 12
    outcomes = await load(topology, system.auth, requests=240, concurrency=concurrency, on_done=kill_midway)
    assert killed_at and victim.process.wait(5) == -signal.SIGKILL
    failed = [(started, status) for started, _, status in outcomes if status != 200]
    assert len(failed) <= concurrency, failed  # at most what was in flight at once
    late = [(round(started - killed_at[0], 3), status) for started, status in failed if started > killed_at[0]]
    assert not late, f"requests sent after the kill failed: {late}"
    later = [status for started, _, status in outcomes if started > killed_at[0]]
    assert later and set(later) == {200}
    verified = hub_command(topology.env, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
