"""A hub served by several workers, as ``--workers N`` runs it: replicas sharing Redis and one registry."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from bench import client
from bench.hub_server import FULL_SCOPES
from bench.processes import Processes, process_tree
from bench.replicas import SharedState
from bench.tokens import TokenCaller, new_key_files

pytestmark = pytest.mark.redis


def test_one_worker_shares_nothing(redis_url: str) -> None:
    shared = SharedState(1, redis_url)
    assert shared.env("hub-on") == {"BENCH_WORKERS": "1"}
    assert shared.env() == {"BENCH_WORKERS": "1"}
    shared.check()  # no Redis asked for
    assert shared.delete() == 0


def test_several_workers_share_a_redis_of_their_own(redis_url: str, redis_prefix: str) -> None:
    shared = SharedState(2, redis_url)
    shared.prefix = redis_prefix
    shared.check()
    assert shared.env() == {"BENCH_WORKERS": "2"}  # the floor, subgraphs and gateways: no Redis
    env = shared.env("hub-on")
    assert env == {"BENCH_WORKERS": "2", "BENCH_REDIS_URL": redis_url, "BENCH_REDIS_PREFIX": f"{redis_prefix}hub-on:"}
    store = redis.Redis.from_url(redis_url)
    try:
        epoch = float(store.get(f"{redis_prefix}hub-on:replay:epoch") or 0)
        assert 0 < epoch <= dt.datetime.now().timestamp()
        store.set(f"{redis_prefix}hub-on:replay:some-jti", "1")
        store.set(f"{redis_prefix}x:other", "1")
        neighbour = f"{redis_prefix[:-1]}-neighbour:kept"
        store.set(neighbour, "1")
        assert shared.delete() == 3
        assert not list(store.scan_iter(match=f"{redis_prefix}*"))
        assert store.get(neighbour) == b"1"  # another run's key is not this run's
        store.delete(neighbour)
    finally:
        store.close()


def test_several_workers_without_redis_stop_before_anything_starts() -> None:
    with pytest.raises(SystemExit, match="needs Redis at redis://127.0.0.1:1/0"):
        SharedState(2, "redis://127.0.0.1:1/0").check()


@pytest.fixture
def two_worker_hub(tmp_path: Path, redis_url: str, redis_prefix: str) -> Iterator[tuple[int, Path]]:
    from hub.demo.generate import generate

    data = tmp_path / "data"
    generate(data, seed=7, enterprises=30, as_of=dt.date(2026, 11, 1))
    state = tmp_path / "state"
    state.mkdir()
    shared = SharedState(2, redis_url)
    shared.prefix = redis_prefix
    processes = Processes(tmp_path)
    try:
        hub = processes.start("hub", ["-m", "bench.hub_server"], {
            "BENCH_DATA_DIR": str(data), "BENCH_TODAY": "2026-11-01", "BENCH_STATE_DIR": str(state),
            "BENCH_ECOLOGY_URL": "http://127.0.0.1:1", "BENCH_SECURITY_URL": "http://127.0.0.1:1/graphql",
            "BENCH_POLICIES": "on", "BENCH_CLIENT_JWK": str(new_key_files(state)), **shared.env("hub"),
        })
        processes.wait_healthy(hub)
        yield hub.port, state
        assert hub.process.poll() is None, hub.tail()
        workers = [pid for pid in process_tree((hub.process.pid,)) if pid != hub.process.pid]
        assert len(workers) >= 2, "uvicorn serves the hub from a supervisor and two workers"
    finally:
        processes.stop_all()


def test_a_proof_used_at_one_worker_is_refused_at_every_other(two_worker_hub: tuple[int, Path]) -> None:
    port, state = two_worker_hub
    caller = TokenCaller(f"http://127.0.0.1:{port}", state, FULL_SCOPES)
    body = {"query": "{ __typename }"}
    first = httpx.post(caller.graphql_url, json=body, auth=caller.auth, headers=caller.headers, timeout=30)
    assert first.status_code == 200, first.text  # the token client was registered once, for both workers
    fresh = caller.request(port, body)  # a new proof each call

    async def replay_across_workers() -> list[int]:
        by_worker = await one_connection_per_worker(port)
        statuses = []
        try:
            for conn in by_worker.values():
                await conn.send(fresh)  # each worker has checked a proof before the replayed one is made
            await asyncio.sleep(1.1)  # proofs carry whole seconds: the next one is younger than any store
            once = fresh()
            for conn in by_worker.values():
                try:
                    await conn.send(once)
                    statuses.append(200)
                except client.BadResponse as refused:
                    statuses.append(int(str(refused)[9:12]))
        finally:
            for conn in by_worker.values():
                await conn.close()
        return statuses

    assert asyncio.run(replay_across_workers()) == [200, 401]
    client_id = json.loads((state / "bench-client.json").read_text())["client_id"]
    assert client_id


async def worker_of(conn: client.Connection, port: int) -> str:
    """Which worker a connection is served by: its metrics' creation time, one per process."""
    text = (await conn.send(client.encode_request(port, "/metrics"))).decode()
    return next(line for line in text.splitlines() if line.startswith("hub_cache_bypassed_created "))


async def one_connection_per_worker(port: int, workers: int = 2, attempts: int = 60) -> dict[str, client.Connection]:
    """New connections until one is held at each worker (the kernel hands a connection to whichever
    worker accepts first, so a few tries may land on the same one)."""
    found: dict[str, client.Connection] = {}
    for _ in range(attempts):
        conn = await client.Connection.open(port)
        worker = await worker_of(conn, port)
        if worker in found:
            await conn.close()
            await asyncio.sleep(0.05)
        else:
            found[worker] = conn
        if len(found) == workers:
            return found
    for conn in found.values():
        await conn.close()
    raise AssertionError(f"{attempts} connections reached {len(found)} worker(s), not {workers}")
