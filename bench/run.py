"""``python -m bench``: generate the data, start every process, check and measure each scenario, report.

Targets (``HUBS``): the hub with policies and the disclosure audit on and off, each with its entity
cache on (as in production) and off, the hub with a narrower grant (masks applied), the hub with
policies on and the audit off (cache on; what the audit record costs, apart), the peer stack behind
Apollo Gateway and behind Hive Gateway (``bench.peer``: no policies, no audit, no tokens), and the
floor. For each scenario the floor's JSON is compared with every hub's and gateway's ``data`` (every
request of the rotation; masked where the masked hub must mask) before anything is measured: a
scenario whose answer carries ``errors`` or differs fails loudly and gets no figures. After the run, each
policies-on hub's audit must hold exactly one record per request it answered (``bench.audit_count``).
Every server is ``--workers`` processes (``bench.replicas``: default one per core), and each target's
CPU time over its throughput runs is reported beside its figures (``bench.measure``).
"""

from __future__ import annotations

import argparse
import dataclasses
import asyncio
import datetime as dt
import os
import signal
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench import fair_use, report
from bench.audit_count import check_audits
from bench.masked import masked, maskers
from bench.measure import Options, Target, client_ceiling, measure
from bench.processes import Processes
from bench.replicas import SharedState, default_workers, workers_arg
from bench.hub_server import FULL_SCOPES, MASKED_SCOPES
from bench.scenarios import Scenario, scenarios
from bench.tokens import TokenCaller, new_key_files

SEED = 20261126
ENTERPRISES = 5000
AS_OF = dt.date(2026, 11, 1)
RESULTS_DIR = Path(__file__).resolve().parent / "results"
BUSY_LOAD = 0.5  # 1-minute load average above which the figures are worth a warning


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    add = parser.add_argument
    add("--requests", type=int, default=200, help="sequential requests measured per target (default 200)")
    add("--warmup", type=int, default=30, help="unmeasured requests first (default 30)")
    add("--clients", type=int, default=8, help="concurrent clients for throughput (default 8)")
    add("--seconds", type=float, default=6.0, help="throughput time per target (default 6)")
    add("--workers", type=workers_arg, default=default_workers(),
        help="server processes per target, alike for every hub, the floor, each peer subgraph and gateway "
             f"(default: the machine's cores, {default_workers()}; 1: one process each)")
    add("--hubs", nargs="+", choices=[key for key, _, _ in HUBS], metavar="HUB",
        help="only these hub targets, the floor and no peer stack (e.g. hub-on hub-on-noaudit hub-off: what "
             "the audit record costs); default every one")
    args = parser.parse_args(argv)
    return Options(args.requests, args.warmup, args.clients, args.seconds, tuple(args.hubs) if args.hubs else None,
                   args.workers)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    # A plain `kill` must still run the finally below that stops every child process.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    started = dt.datetime.now()
    load_before = os.getloadavg()
    shared = SharedState(options.workers)
    shared.check()
    with tempfile.TemporaryDirectory(prefix="hub-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        print(f"Generating demo data (seed {SEED}, {ENTERPRISES} enterprises, as of {AS_OF})", flush=True)
        from hub.demo.generate import generate

        generate(data_dir, seed=SEED, enterprises=ENTERPRISES, as_of=AS_OF)
        processes = Processes(Path(tmp))
        try:
            targets = start_targets(processes, data_dir, shared, options.hubs)
            outcome = asyncio.run(run_scenarios(targets, scenarios(data_dir), options))
        finally:
            processes.stop_all()
            shared.delete()
        # Once every hub has stopped: each policies-on hub's audit holds one record per request.
        outcome["audit"], problems = check_audits(targets, outcome.pop("sent"))
        if problems:
            outcome["failures"].append({"scenario": "audit", "problems": problems})
    outcome["fair_use"] = fair_use.measured_apart()
    outcome["load_average"] = {"start": load_before, "end": os.getloadavg()}
    document = report.document(started, options, outcome)
    print(report.table(document))
    document["fair_use"] = {**outcome["fair_use"], "hub_on_p50_ms": hub_on_p50(document)}
    print("\n".join(fair_use.lines(outcome["fair_use"], hub_on_p50(document))))
    if max(load_before[0], document["load_average"]["end"][0]) > BUSY_LOAD:
        end = document["load_average"]["end"][0]
        print(f"\nWarning: the machine was busy (1-min load average {load_before[0]:.2f} at start, {end:.2f} "
              "at end): absolute figures are noisy; the ratios, measured interleaved, much less so.")
    print(f"\nResults: {report.write(RESULTS_DIR, started, document)}")
    for failure in document["failures"]:
        print(f"FAILED scenario {failure['scenario']}: {failure['problems'][0]}", file=sys.stderr)
    return 1 if document["failures"] else 0


def hub_on_p50(document: dict[str, Any]) -> float | None:
    """The policies-on hub's median p50 over the scenarios of this run (what the fair-use checks add to)."""
    p50s = [r["p50_ms"] for r in document.get("results", []) if r.get("target") == "hub-on"]
    return statistics.median(p50s) if p50s else None


# (key, BENCH_POLICIES, BENCH_CACHE) of every hub target; each pair on/off is compared in the report.
HUBS = (
    ("hub-on", "on", "on"), ("hub-off", "off", "on"),
    ("hub-on-nocache", "on", "off"), ("hub-off-nocache", "off", "off"),
    ("hub-masked", "masked", "on"), ("hub-on-noaudit", "on-noaudit", "on"),
)


def start_targets(
    processes: Processes, data_dir: Path, shared: SharedState, only: tuple[str, ...] | None = None
) -> list[Target]:
    """Every hub of ``HUBS`` (each with a registry, and so an audit, of its own) and the floor, last,
    each served by ``shared.workers`` processes; ``only``: those hubs, the floor and no peer stack."""
    def service(name: str) -> list[str]:
        return ["-m", "hub.cli", "demo", "service", name, "--port", "{port}", "--data-dir", str(data_dir)]

    ecology = processes.start("ecology", service("ecology"))
    security = processes.start("security", service("security"))
    env = {
        "BENCH_DATA_DIR": str(data_dir), "BENCH_TODAY": AS_OF.isoformat(),
        "BENCH_ECOLOGY_URL": ecology.url, "BENCH_SECURITY_URL": security.url + "/graphql",
    }
    targets = []
    for key, policies, cache in HUBS:
        if only is not None and key not in only:
            continue
        state_dir = data_dir.parent / f"state-{key}"
        state_dir.mkdir()
        tokens = {} if policies == "off" else {"BENCH_CLIENT_JWK": str(new_key_files(state_dir))}
        child = processes.start(key, ["-m", "bench.hub_server"], {
            **env, "BENCH_POLICIES": policies, "BENCH_CACHE": cache, "BENCH_STATE_DIR": str(state_dir), **tokens,
            **shared.env(key),
        })
        targets.append(Target(key, child, True, policies, state_dir))
    floor = Target("floor", processes.start("floor", ["-m", "bench.floor"], {**env, **shared.env()}), False)
    for child in processes.children:
        processes.wait_healthy(child)
    from bench.peer.run import start_peer  # it reads this module's constants

    peers = start_peer(processes, {**env, **shared.env()}, data_dir.parent) if only is None else []
    targets = [with_tokens(t) for t in targets] + peers + [floor]
    print(f"Started: {', '.join(f'{c.name} :{c.port}' for c in processes.children)}", flush=True)
    return targets


def with_tokens(target: Target) -> Target:
    """A policies-on hub's target with its registered client (``bench.tokens``); others as they are."""
    if not target.is_hub or target.policies == "off" or target.state_dir is None:
        return target
    scopes = MASKED_SCOPES if target.policies == "masked" else FULL_SCOPES
    return dataclasses.replace(target, caller=TokenCaller(target.child.url, target.state_dir, scopes))


async def run_scenarios(targets: list[Target], cases: list[Scenario], options: Options) -> dict[str, Any]:
    outcome: dict[str, Any] = {"scenarios": [], "results": [], "failures": []}
    # Requests each hub answered (checks, warm-up, sequential, throughput): its audit must hold as many.
    outcome["sent"] = sent = {t.key: 0 for t in targets if t.is_hub}
    outcome["client_ceiling"] = ceiling = await client_ceiling(targets[-1], options)
    print(f"Load generator against the floor's /healthz: p50 {ceiling['healthz_p50_ms']:.2f} ms, "
          f"{ceiling['healthz_rps']:.0f} req/s", flush=True)
    async with httpx.AsyncClient(timeout=30) as http:
        for scenario in cases:
            outcome["scenarios"].append({"key": scenario.key, "title": scenario.title})
            print(f"\nScenario {scenario.key}: {scenario.title}", flush=True)
            serving = [t for t in targets if t.serves(scenario)]
            problems = await check(http, serving, scenario)
            for key in sent:
                sent[key] += len(scenario.requests)
            if problems:
                report_failure(targets, problems)
                outcome["failures"].append({"scenario": scenario.key, "problems": problems})
                continue
            results = await measure(http, serving, scenario, options)
            for result in results:
                if result["target"] in sent:
                    sent[result["target"]] += (
                        options.warmup + result["sequential_requests"] + result["throughput_requests"]
                    )
            outcome["results"] += results
    return outcome


async def check(http: httpx.AsyncClient, targets: list[Target], scenario: Scenario) -> list[str]:
    """Every hub answer of the rotation must carry no errors and ``data`` equal to the floor's JSON.

    The masked target's answers must equal the floor's JSON with its masks applied (``bench.masked``).
    """
    floor = targets[-1]
    masks = maskers()
    problems = []
    for n, (body, path) in enumerate(scenario.requests):
        expected = orjson.loads((await http.get(floor.child.url + path)).content)
        for hub in targets[:-1]:
            if hub.caller is not None:  # a token (taken on first use) and a proof, as a department system sends
                response = await http.post(hub.child.url + "/graphql", json=body, auth=hub.caller.auth,
                                           headers=hub.caller.headers)
            else:
                response = await http.post(hub.child.url + "/graphql", json=body)
            try:
                answer = orjson.loads(response.content)
            except orjson.JSONDecodeError:
                answer = {}
            wanted = masked(expected, masks) if hub.policies == "masked" else expected
            if response.status_code != 200 or "data" not in answer:
                problems.append(f"{hub.key} request {n}: HTTP {response.status_code} {response.text[:300]}")
            elif answer.get("errors"):
                problems.append(f"{hub.key} request {n}: errors {orjson.dumps(answer['errors']).decode()}")
            elif answer.get("data") != wanted:
                difference = first_difference(answer.get("data"), wanted)
                problems.append(f"{hub.key} request {n}: data differs from the floor's ({difference})")
    return problems


def first_difference(got: Any, want: Any, where: str = "data") -> str:
    if isinstance(got, dict) and isinstance(want, dict):
        for key in sorted(set(got) | set(want)):
            mine, theirs = got.get(key, "<missing>"), want.get(key, "<missing>")
            if mine != theirs:
                return first_difference(mine, theirs, f"{where}.{key}")
    if isinstance(got, list) and isinstance(want, list):
        if len(got) != len(want):
            return f"{where}: {len(got)} items from the hub, {len(want)} from the floor"
        for i, (a, b) in enumerate(zip(got, want, strict=True)):
            if a != b:
                return first_difference(a, b, f"{where}[{i}]")
    return f"{where}: hub {str(got)[:120]!r}, floor {str(want)[:120]!r}"


def report_failure(targets: list[Target], problems: list[str]) -> None:
    for problem in problems[:4]:
        print(f"  FAILED: {problem}", flush=True)
    if len(problems) > 4:
        print(f"  ... {len(problems) - 4} more problems (all in the results file)", flush=True)
    for hub in targets[:-1]:
        tail = hub.child.tail(20)
        if tail:
            print(f"  --- last lines of the {hub.key} log ---\n{tail}", flush=True)
