"""``python -m bench.soak``: does a hub replica's memory level off under steady load? (By hand, not CI.)

One policies-on hub (tokens, DPoP proofs, policies and the disclosure audit on, entity cache on: the
bench's ``hub-on`` target) answers scenarios A and B (a rotation over many enterprises, so caches,
loaders and audit subjects keep meeting new keys) from ``--clients`` keep-alive connections for
``--minutes``. Every ``--every`` seconds the hub process's resident set (``VmRSS``) is sampled. The
report gives the growth in MB per minute over each third of the run: memory that levels off shows a
last third near zero (bounded caches filling up show as early growth only); a leak keeps its slope.
Written to ``bench/results/soak-<time>.json``.

    .venv/bin/python -m bench.soak --minutes 30      # the soak
    .venv/bin/python -m bench.soak --minutes 3       # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.client import Connection, Request
from bench.hub_server import FULL_SCOPES
from bench.processes import Processes
from bench.run import AS_OF, RESULTS_DIR, SEED
from bench.scenarios import scenarios
from bench.tokens import TokenCaller, new_key_files

ENTERPRISES = 5000  # as the bench: scenario B needs enough holders of all three licence kinds


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def slope(samples: list[tuple[float, float]]) -> float:
    """Least-squares MB per minute of (seconds, MB) samples."""
    n = len(samples)
    if n < 2:
        return 0.0
    mean_t = sum(t for t, _ in samples) / n
    mean_m = sum(m for _, m in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    return 0.0 if var == 0 else 60 * sum((t - mean_t) * (m - mean_m) for t, m in samples) / var


async def load(port: int, requests: list[Request], clients: int, stop_at: float) -> int:
    connections = [await Connection.open(port) for _ in range(clients)]
    done = 0

    async def client(conn: Connection, offset: int) -> None:
        nonlocal done
        i = offset
        while time.monotonic() < stop_at:
            await conn.send(requests[i % len(requests)])
            done += 1
            i += clients

    try:
        await asyncio.gather(*(client(c, n) for n, c in enumerate(connections)))
    finally:
        for conn in connections:
            await conn.close()
    return done


async def sample(pid: int, every: float, stop_at: float, started: float) -> list[tuple[float, float]]:
    samples = [(0.0, rss_mb(pid))]
    while time.monotonic() < stop_at:
        await asyncio.sleep(min(every, max(0.0, stop_at - time.monotonic())))
        samples.append((time.monotonic() - started, rss_mb(pid)))
        print(f"  {samples[-1][0] / 60:5.1f} min  RSS {samples[-1][1]:7.1f} MB", flush=True)
    return samples


async def soak(port: int, pid: int, requests: list[Request], args: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    stop_at = started + args.minutes * 60
    answered, samples = await asyncio.gather(
        load(port, requests, args.clients, stop_at), sample(pid, args.every, stop_at, started)
    )
    thirds = [samples[i * len(samples) // 3:(i + 1) * len(samples) // 3 + 1] for i in range(3)]
    return {
        "minutes": args.minutes, "clients": args.clients, "requests": answered,
        "rps": answered / (time.monotonic() - started),
        "rss_mb": {"start": samples[0][1], "end": samples[-1][1], "max": max(m for _, m in samples)},
        "growth_mb_per_minute": {"whole": slope(samples), "thirds": [slope(t) for t in thirds]},
        "samples": samples,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--every", type=float, default=30.0, help="seconds between memory samples")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    with tempfile.TemporaryDirectory(prefix="hub-soak-") as tmp:
        data_dir = Path(tmp) / "data"
        from hub.demo.generate import generate

        generate(data_dir, seed=SEED, enterprises=ENTERPRISES, as_of=AS_OF)
        processes = Processes(Path(tmp))
        try:
            outcome = run(processes, data_dir, args)
        finally:
            processes.stop_all()
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"soak-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(outcome, indent=2))
    growth = outcome["growth_mb_per_minute"]
    print(f"{outcome['requests']} requests ({outcome['rps']:.1f}/s); RSS {outcome['rss_mb']['start']:.1f} -> "
          f"{outcome['rss_mb']['end']:.1f} MB; growth MB/min by thirds: "
          + ", ".join(f"{g:+.2f}" for g in growth["thirds"]) + f"\nResults: {path}")
    return 0


def run(processes: Processes, data_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    def service(name: str) -> list[str]:
        return ["-m", "hub.cli", "demo", "service", name, "--port", "{port}", "--data-dir", str(data_dir)]

    ecology, security = processes.start("ecology", service("ecology")), processes.start("security", service("security"))
    state_dir = data_dir.parent / "state-hub-on"
    state_dir.mkdir()
    hub = processes.start("hub-on", ["-m", "bench.hub_server"], {
        "BENCH_DATA_DIR": str(data_dir), "BENCH_TODAY": AS_OF.isoformat(), "BENCH_ECOLOGY_URL": ecology.url,
        "BENCH_SECURITY_URL": security.url + "/graphql", "BENCH_POLICIES": "on", "BENCH_CACHE": "on",
        "BENCH_STATE_DIR": str(state_dir), "BENCH_CLIENT_JWK": str(new_key_files(state_dir)),
    })
    for child in processes.children:
        processes.wait_healthy(child)
    caller = TokenCaller(hub.url, state_dir, FULL_SCOPES)
    import httpx

    httpx.post(caller.graphql_url, auth=caller.auth, headers=caller.headers, json={"query": "{ __typename }"})
    bodies = [body for case in scenarios(data_dir) if case.key in ("A", "B") for body, _ in case.requests]
    requests = [caller.request(hub.port, body) for body in bodies]
    print(f"Soak: {args.minutes} min, {args.clients} clients, {len(requests)} distinct requests", flush=True)
    return asyncio.run(soak(hub.port, hub.process.pid, requests, args))


if __name__ == "__main__":
    sys.exit(main())
