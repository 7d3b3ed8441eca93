"""Measuring one scenario on every target, interleaved so that background load hits all of them alike.

The machine is shared (other work may start mid-run), so targets are never measured one after
the other: sequential requests go round the targets in turn (request i to each target, the order
reversed every other round), and each throughput run is split into halves run in the order
1 2 ... n n ... 2 1 (targets 1 to n).
A drift in background load then shifts every target's figures, not one target's, and the ratios
stay honest. Source calls per request are counted over the sequential phase (after warm-up): the
hub's ``hub_source_calls_total`` from ``/metrics``, the floor's own statements and HTTP calls.

During each throughput half the CPU time of the target's whole process tree is read before and
after (``processes.tree_cpu_seconds``: every worker of the server; for the peer stack its gateway and
its four subgraphs): CPU per request (ms) and the cores it kept busy (CPU seconds / wall seconds)
say what a figure cost the machine, whatever the number of processes behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench import client
from bench.processes import Child, tree_cpu_seconds
from bench.scenarios import Scenario
from bench.tokens import TokenCaller


@dataclass(frozen=True)
class Options:
    requests: int
    warmup: int
    clients: int
    seconds: float
    hubs: tuple[str, ...] | None = None  # only these hub targets (``--hubs``); None: every one
    workers: int = 1  # server processes per target (``--workers``): every hub, the floor, each subgraph and gateway


@dataclass(frozen=True)
class Target:
    key: str
    child: Child
    is_hub: bool
    policies: str = ""  # the hub's BENCH_POLICIES (on, off, masked); "" for the floor
    state_dir: Path | None = None  # where its registry (and so its audit) lives
    caller: TokenCaller | None = None  # the policies-on targets: a client with a token and a proof per request
    helpers: tuple[Child, ...] = ()  # other processes serving it (the peer stack's subgraphs), CPU counted

    def pids(self) -> tuple[int, ...]:
        """The roots of the process trees whose CPU time is this target's."""
        return (self.child.process.pid, *(c.process.pid for c in self.helpers))

    def serves(self, scenario: Scenario) -> bool:
        """Whether this target answers the scenario (the peer stack serves Market Regulation's data only)."""
        return True

    def requests(self, scenario: Scenario) -> list[client.Request]:
        if self.caller is not None:
            return [self.caller.request(self.child.port, body) for body, _ in scenario.requests]
        if self.is_hub:
            return [client.encode_request(self.child.port, "/graphql", body) for body, _ in scenario.requests]
        return [client.encode_request(self.child.port, path) for _, path in scenario.requests]

    async def source_calls(self, conn: client.Connection) -> float:
        """Calls into department sources so far: the hub's counter, or the floor's statements + calls.

        Asked on ``conn``, the connection the sequential requests use: with several workers each
        keeps its own counts, and a connection stays with the worker that accepted it."""
        if not self.is_hub:
            counts = orjson.loads(await conn.send(client.encode_request(self.child.port, "/stats")))
            return float(counts["sql"] + counts["http"])
        text = (await conn.send(client.encode_request(self.child.port, "/metrics"))).decode()
        prefix = "hub_source_calls_total{"
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix))


async def measure(
    http: httpx.AsyncClient, targets: list[Target], scenario: Scenario, options: Options
) -> list[dict[str, Any]]:
    requests = {t.key: t.requests(scenario) for t in targets}
    latencies, calls = await sequential(http, targets, requests, options)
    throughput = await concurrent(targets, requests, options)
    results = []
    for t in targets:
        result = {
            "scenario": scenario.key, "target": t.key,
            "p50_ms": percentile(latencies[t.key], 50) * 1000,
            "p95_ms": percentile(latencies[t.key], 95) * 1000,
            "rps": throughput[t.key].rps, "throughput_requests": throughput[t.key].requests,
            "source_calls_per_request": calls[t.key], "sequential_requests": len(latencies[t.key]),
            "cpu_seconds": throughput[t.key].cpu_seconds,
            "cpu_ms_per_request": throughput[t.key].cpu_ms_per_request, "cores": throughput[t.key].cores,
        }
        print(f"  {t.key:16} p50 {result['p50_ms']:7.2f} ms  p95 {result['p95_ms']:7.2f} ms  "
              f"{result['rps']:7.1f} req/s  {result['source_calls_per_request']:.2f} source calls/request  "
              f"CPU {result['cpu_ms_per_request']:.2f} ms/request, {result['cores']:.2f} cores", flush=True)
        results.append(result)
    return results


async def sequential(
    http: httpx.AsyncClient, targets: list[Target], requests: dict[str, list[client.Request]], options: Options
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Latencies (seconds) of requests sent one at a time, round the targets; source calls per request."""
    conns = {t.key: await client.Connection.open(t.child.port) for t in targets}
    try:
        for i in range(options.warmup):  # round the targets too, so no connection idles meanwhile
            for t in targets:
                await conns[t.key].send(requests[t.key][i % len(requests[t.key])])
        before = {t.key: await t.source_calls(conns[t.key]) for t in targets}
        latencies: dict[str, list[float]] = {t.key: [] for t in targets}
        for i in range(options.requests):
            for t in targets if i % 2 == 0 else reversed(targets):
                batch = requests[t.key]
                latencies[t.key].append(await conns[t.key].timed(batch[i % len(batch)]))
        calls = {t.key: (await t.source_calls(conns[t.key]) - before[t.key]) / options.requests for t in targets}
    finally:
        for conn in conns.values():
            await conn.close()
    return latencies, calls


async def concurrent(
    targets: list[Target], requests: dict[str, list[client.Request]], options: Options
) -> dict[str, client.Throughput]:
    """Throughput of ``options.clients`` concurrent clients, two half-length runs per target (1 2 ... n n ... 2 1),
    with the CPU time the target's processes used during them."""
    done = {t.key: 0 for t in targets}
    elapsed = {t.key: 0.0 for t in targets}
    cpu = {t.key: 0.0 for t in targets}
    for t in [*targets, *reversed(targets)]:
        pids = t.pids()
        before = tree_cpu_seconds(pids)
        run = await client.concurrent(t.child.port, requests[t.key], options.clients, options.seconds / 2)
        cpu[t.key] += tree_cpu_seconds(pids) - before
        done[t.key] += run.requests
        elapsed[t.key] += run.seconds
    return {key: client.Throughput(done[key], elapsed[key], cpu[key]) for key in done}


def percentile(values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


async def client_ceiling(floor: Target, options: Options) -> dict[str, float]:
    """What the load generator itself achieves against a trivial endpoint (the floor's /healthz)."""
    health = [client.encode_request(floor.child.port, "/healthz")]
    conn = await client.Connection.open(floor.child.port)
    try:
        for _ in range(options.warmup):
            await conn.send(health[0])
        latencies = [await conn.timed(health[0]) for _ in range(200)]
    finally:
        await conn.close()
    throughput = await client.concurrent(floor.child.port, health, options.clients, 2.0)
    return {"healthz_p50_ms": percentile(latencies, 50) * 1000, "healthz_rps": throughput.rps}
