"""``python -m bench.peer``: the hub (policies, audit and tokens on) against the peer stacks and the floor.

One run on the bench's demo data: the hub as ``make bench``'s ``hub-on`` target (a real client's
DPoP-bound token and a fresh proof per request, its policies and its disclosure audit), the peer
stack (four strawberry Federation v2 subgraphs: ``bench.peer.market`` and ``bench.peer.departments``'
housing, ecology and licensing, composed by ``@apollo/composition``) served by ``@apollo/gateway``
and by Hive Gateway (no policies, no audit, no tokens), and the floor. For scenarios A, B and C each
answer is first checked equal to the floor's JSON (the hub's and the gateways' alike), then every
target is measured interleaved as ``make bench`` measures (``bench.measure``). The table gives hub/peer req/s.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench import client, report
from bench.audit_count import check_audits
from bench.measure import Options, Target, measure
from bench.processes import ROOT, Child, Processes
from bench.replicas import SharedState, default_workers, workers_arg
from bench.run import AS_OF, ENTERPRISES, RESULTS_DIR, SEED, first_difference, with_tokens
from bench.scenarios import Scenario, scenarios
from bench.tokens import new_key_files

PEERS = ROOT / "tests" / "peers"
SCENARIOS = ("A", "B", "C")
SUBGRAPHS = {  # name -> the module serving it (its arguments)
    "market": ["-m", "bench.peer.market"],
    "housing": ["-m", "bench.peer.departments", "housing"],
    "ecology": ["-m", "bench.peer.departments", "ecology"],
    "licensing": ["-m", "bench.peer.departments", "licensing"],
}
GATEWAYS = {"peer": "gateway.mjs", "peer-hive": "hive_gateway.mjs"}  # target key -> node script in tests/peers


class PeerTarget(Target):
    """The gateway: asked as the hub is (POST /graphql), checked and measured beside it, never audited."""

    def serves(self, scenario: Scenario) -> bool:
        return scenario.key in SCENARIOS

    def requests(self, scenario: Scenario) -> list[client.Request]:
        return [client.encode_request(self.child.port, "/graphql", body) for body, _ in scenario.requests]

    async def source_calls(self, conn: client.Connection) -> float:
        return float("nan")  # the gateway and the subgraph count nothing


def start_peer(processes: Processes, env: dict[str, str], work: Path) -> list[PeerTarget]:
    """The subgraphs and each gateway in front of them (none, saying why, when node is not installed)."""
    if shutil.which("node") is None or not (PEERS / "node_modules" / "@apollo" / "gateway").is_dir():
        print("bench: no peer stack (needs node and `npm ci --prefix tests/peers`)", flush=True)
        return []
    subgraphs = {name: processes.start(f"peer-{name}", args, env) for name, args in SUBGRAPHS.items()}
    for subgraph in subgraphs.values():
        processes.wait_healthy(subgraph)
    supergraph = str(compose(subgraphs, work))
    targets = []
    for key, script in GATEWAYS.items():
        if not (PEERS / script).is_file():
            continue
        # Several workers: node's cluster module runs the script in each (tests/peers/workers.mjs).
        workers = int(env.get("BENCH_WORKERS", "1"))
        command = [str(PEERS / script), supergraph]
        if workers > 1:
            command.insert(0, str(PEERS / "workers.mjs"))
        gateway = processes.start(key, command, {"BENCH_WORKERS": str(workers)}, program="node")
        wait_gateway(gateway)
        targets.append(PeerTarget(key, gateway, False, helpers=tuple(subgraphs.values())))
    return targets


def compose(subgraphs: dict[str, Child], work: Path) -> Path:
    specs = []
    for name, subgraph in subgraphs.items():
        sdl = work / f"{name}.graphql"
        sdl.write_text(subprocess.run([sys.executable, *SUBGRAPHS[name], "--sdl"], cwd=ROOT, check=True,
                                      capture_output=True, text=True).stdout)
        specs.append(f"{name}={sdl}@{subgraph.url}/graphql")
    composed = json.loads(subprocess.run(
        ["node", str(PEERS / "compose.mjs"), "apollo", *specs], cwd=ROOT, check=True, capture_output=True,
        text=True).stdout)
    if composed["errors"]:
        raise SystemExit(f"bench.peer: composition failed: {composed['errors']}")
    supergraph = work / "supergraph.graphql"
    supergraph.write_text(composed["supergraphSdl"])
    return supergraph


def wait_gateway(gateway: Child) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if gateway.process.poll() is not None:
            raise SystemExit(f"bench.peer: the gateway exited:\n{gateway.tail()}")
        try:
            if gateway.all_workers_ready() and httpx.post(
                gateway.url + "/graphql", json={"query": "{ __typename }"}, timeout=1,
            ).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"bench.peer: the gateway did not answer:\n{gateway.tail()}")


def start(processes: Processes, data_dir: Path, work: Path, shared: SharedState) -> list[Target]:
    def service(name: str) -> list[str]:
        return ["-m", "hub.cli", "demo", "service", name, "--port", "{port}", "--data-dir", str(data_dir)]

    ecology, security = processes.start("ecology", service("ecology")), processes.start("security", service("security"))
    env = {"BENCH_DATA_DIR": str(data_dir), "BENCH_TODAY": AS_OF.isoformat(),
           "BENCH_ECOLOGY_URL": ecology.url, "BENCH_SECURITY_URL": security.url + "/graphql"}
    state_dir = work / "state-hub-on"
    state_dir.mkdir()
    hub = processes.start("hub-on", ["-m", "bench.hub_server"], {
        **env, "BENCH_POLICIES": "on", "BENCH_CACHE": "on", "BENCH_STATE_DIR": str(state_dir),
        "BENCH_CLIENT_JWK": str(new_key_files(state_dir)), **shared.env("hub-on")})
    floor = processes.start("floor", ["-m", "bench.floor"], {**env, **shared.env()})
    for child in (ecology, security, hub, floor):
        processes.wait_healthy(child)
    peers = start_peer(processes, {**env, **shared.env()}, work)
    if not peers:
        raise SystemExit("bench.peer: no peer stack to measure")
    return [with_tokens(Target("hub-on", hub, True, "on", state_dir)), *peers, Target("floor", floor, False)]


async def check(http: httpx.AsyncClient, targets: list[Target], scenario: Scenario) -> list[str]:
    problems = []
    for n, (body, path) in enumerate(scenario.requests):
        expected = orjson.loads((await http.get(targets[-1].child.url + path)).content)
        for target in targets[:-1]:
            caller = target.caller
            response = await http.post(target.child.url + "/graphql", json=body,
                                       auth=caller.auth if caller else None, headers=caller.headers if caller else {})
            answer = orjson.loads(response.content) if response.status_code == 200 else {}
            if answer.get("errors") or answer.get("data") != expected:
                problems.append(f"{target.key} request {n}: {first_difference(answer.get('data'), expected)} "
                                f"{response.text[:300]}")
    return problems


async def run(targets: list[Target], cases: list[Scenario], options: Options) -> dict[str, Any]:
    outcome: dict[str, Any] = {"results": [], "failures": []}
    # Requests the hub answered (checks, warm-up, sequential, throughput): its audit must hold as many.
    outcome["sent"] = sent = {t.key: 0 for t in targets if t.is_hub}
    async with httpx.AsyncClient(timeout=30) as http:
        for scenario in (s for s in cases if s.key in SCENARIOS):
            print(f"\nScenario {scenario.key}: {scenario.title}", flush=True)
            problems = await check(http, targets, scenario)
            for key in sent:
                sent[key] += len(scenario.requests)
            if problems:
                print("\n".join(f"  FAILED: {p}" for p in problems[:4]), flush=True)
                outcome["failures"].append({"scenario": scenario.key, "problems": problems})
                continue
            results = await measure(http, targets, scenario, options)
            for result in results:
                if result["target"] in sent:
                    sent[result["target"]] += (
                        options.warmup + result["sequential_requests"] + result["throughput_requests"]
                    )
            outcome["results"] += results
    return outcome


def table(results: list[dict[str, Any]]) -> str:
    lines = ["| scenario | target | p50 ms | p95 ms | req/s | CPU ms/req | cores | p50 hub/peer | req/s hub/peer "
             "| req/s hub/floor |", "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|"]
    by = {(r["scenario"], r["target"]): r for r in results}
    for (scenario, target), r in by.items():
        hub, floor = by[(scenario, "hub-on")], by[(scenario, "floor")]
        ratios = ("", "", f"{r['rps'] / floor['rps']:.2f}x" if target != "floor" else "")
        if target in GATEWAYS:
            ratios = (f"{hub['p50_ms'] / r['p50_ms']:.2f}x", f"{hub['rps'] / r['rps']:.2f}x", ratios[2])
        name = {"hub-on": "hub (tokens, policies, audit on; cache on)", "floor": "floor", **PEER_LABELS}[target]
        lines.append(f"| {scenario} | {name} | {r['p50_ms']:.2f} | {r['p95_ms']:.2f} | {r['rps']:.1f} | "
                     f"{r['cpu_ms_per_request']:.2f} | {r['cores']:.2f} | " + " | ".join(ratios) + " |")
    return "\n".join(lines)


PEER_LABELS = {
    "peer": "peer stack: Apollo Gateway + strawberry subgraphs (no policies, no audit, no tokens)",
    "peer-hive": "peer stack: Hive Gateway + strawberry subgraphs (no policies, no audit, no tokens)",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.peer", description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--workers", type=workers_arg, default=default_workers(),
                        help="server processes per target, alike for the hub, the floor, each subgraph and gateway "
                             f"(default: the machine's cores, {default_workers()})")
    args = parser.parse_args(argv)
    if shutil.which("node") is None:
        raise SystemExit("bench.peer: needs node (and `npm ci --prefix tests/peers`)")
    options = Options(args.requests, args.warmup, args.clients, args.seconds, None, args.workers)
    shared = SharedState(options.workers)
    shared.check()
    started = dt.datetime.now()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="hub-bench-peer-") as tmp:
        data_dir = Path(tmp) / "data"
        from hub.demo.generate import generate

        print(f"Generating demo data (seed {SEED}, {ENTERPRISES} enterprises, as of {AS_OF})", flush=True)
        generate(data_dir, seed=SEED, enterprises=ENTERPRISES, as_of=AS_OF)
        processes = Processes(Path(tmp))
        try:
            targets = start(processes, data_dir, Path(tmp), shared)
            outcome = asyncio.run(run(targets, scenarios(data_dir), options))
        finally:
            processes.stop_all()
            shared.delete()
        outcome["audit"], problems = check_audits(targets, outcome.pop("sent"))
        if problems:
            outcome["failures"].append({"scenario": "audit", "problems": problems})
    load_after = os.getloadavg()
    print(f"\n{options.workers} worker(s) per target; 1-minute load average {load_before[0]:.2f} at start, "
          f"{load_after[0]:.2f} at end\n" + table(outcome["results"]))
    print("\n".join(report.audit_lines(outcome["audit"])))
    document = {
        "started": started.isoformat(timespec="seconds"), "machine": report.machine(),
        "options": dataclasses.asdict(options), "load_average": {"start": load_before, "end": load_after},
        **outcome,
    }
    print(f"Results: {report.write(RESULTS_DIR, started, document, prefix='peer-')}")
    for failure in outcome["failures"]:
        print(f"FAILED {failure['scenario']}: {failure['problems'][0]}", file=sys.stderr)
    return 1 if outcome["failures"] else 0
