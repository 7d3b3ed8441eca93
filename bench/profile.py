"""Where a policies-on request's time goes, in process: ``python -m bench.profile A C B --cache off``.

One hub as ``make bench``'s ``hub-on`` target builds it (``bench.hub_server``: the bench's demo data
and services, a real client registered and granted, one DPoP-bound access token, a fresh proof per
request, the disclosure audit on unless ``--no-audit``), called as an ASGI app in this process (no
socket, no load generator), so a profiler sees only the hub. Each scenario's requests are sent
``--requests`` times after a warm-up; the median time per request is printed, with the median and mean
CPU time this process spent on it (all its threads: less moved by other processes on a busy machine
than the time); ``--floor`` also times the floor's request (``bench.floor``, in this process) after each
of the hub's and prints both sides and their ratios. With ``--profile``
cProfile's table (top functions by own and by cumulative time) or pyinstrument's call tree (a sampling
profiler, less distorted by many small calls; ``pip install pyinstrument`` first) for the timed requests.
``--stages`` prints the timed requests' CPU per request by stage of the request path (token check,
page select, disclosure note, completion, audit record and writer, JSON: ``bench.stages``).
``--alternate ROUNDS`` (with ``--concurrency``) sends the timed requests ROUNDS times with the same
hub's audit on and off in turn (on, off, off, on, ...): what the record costs a request in CPU and in
throughput, each side's median and their ratio, with a drift in the machine's load falling on both.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import logging
import os
import pstats
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.floor import create_app as create_floor
from bench.hub_server import FULL_SCOPES, NoDisclosures, bench_settings
from bench.processes import Processes
from bench.run import AS_OF, ENTERPRISES, SEED
from bench.scenarios import scenarios
from bench.stages import Stages
from bench.tokens import PURPOSE, register
from hub.app import build_hub, compose_app
from hub.audit.recorder import DisclosureRecorder
from hub.audit.subjects import Disclosed
from hub.client import HubAuth, new_client_key
from hub.context import Caller

PORT = 8000
BINDINGS = Path(__file__).resolve().parent.parent / "connectors" / "departments"  # the floor's value maps


async def call(app: Any, body: bytes, headers: list[tuple[bytes, bytes]], method: str = "POST",
               path: str = "/graphql", query: bytes = b"") -> tuple[int, bytes]:
    """One request (a POST /graphql unless told) through the ASGI app, as uvicorn would hand it over."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "", "query_string": query,
             "headers": headers, "server": ("127.0.0.1", PORT), "client": ("127.0.0.1", 50000)}
    sent = False
    status, chunks = 0, []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def floor_call(floor: Any, path: str) -> None:
    """One GET of the floor's, as the bench sends it."""
    route, _, query = path.partition("?")
    status, answer = await call(floor, b"", [(b"host", f"127.0.0.1:{PORT}".encode())], "GET", route, query.encode())
    if status != 200:
        raise SystemExit(f"bench.profile: floor {path}: HTTP {status} {answer[:300]!r}")


@contextlib.asynccontextmanager
async def _lifespan(app: Any) -> AsyncIterator[None]:
    if app is None:
        yield
        return
    async with app.router.lifespan_context(app):
        yield


async def run(args: argparse.Namespace, data_dir: Path, env: dict[str, str], state_dir: Path) -> None:
    settings = bench_settings({**env, "BENCH_PORT": str(PORT), "BENCH_STATE_DIR": str(state_dir),
                               "BENCH_CACHE": args.cache})
    key = new_client_key()
    client_id = await register(settings, {k: v for k, v in key.items() if k != "d"}, FULL_SCOPES)
    hub = build_hub(settings)
    switch = None
    if args.alternate:  # the same hub, its recorder swapped between rounds
        switch = hub.disclosures = AuditSwitch(hub.disclosures)
    elif args.no_audit:
        hub.disclosures = NoDisclosures()
    app = compose_app(hub)
    stages = Stages() if args.stages else None
    if stages is not None:
        stages.install()
    url = f"http://127.0.0.1:{PORT}"
    auth = HubAuth(f"{url}/oauth/token", client_id, key, f"{url}/graphql", " ".join(FULL_SCOPES))
    floor = create_floor(data_dir, env["BENCH_ECOLOGY_URL"], BINDINGS) if args.floor else None
    async with app.router.lifespan_context(app), _lifespan(floor):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=url) as http:
            answer = await http.post("/graphql", json={"query": "{ __typename }"}, auth=auth,
                                     headers={"X-Hub-Purpose": PURPOSE})
            assert answer.status_code == 200, answer.text
        token = auth._token  # the one HubAuth just obtained
        cases = {s.key: s for s in scenarios(data_dir)}
        for name in args.scenarios:
            bodies = [orjson.dumps(body) for body, _ in cases[name].requests]
            floor_paths = [path for _, path in cases[name].requests]

            async def one(n: int, bodies: list[bytes] = bodies, name: str = name) -> None:
                body = bodies[n % len(bodies)]
                proof = auth.proof("POST", f"{url}/graphql", token)
                headers = [(b"host", f"127.0.0.1:{PORT}".encode()), (b"content-type", b"application/json"),
                           (b"accept", b"application/json"), (b"content-length", str(len(body)).encode())]
                if not args.anonymous:
                    headers += [(b"x-hub-purpose", PURPOSE.encode()), (b"authorization", f"DPoP {token}".encode()),
                                (b"dpop", proof.encode())]
                status, answer = await call(app, body, headers)
                if status != 200 or b'"errors"' in answer:
                    raise SystemExit(f"bench.profile: scenario {name}: HTTP {status} {answer[:300]!r}")

            for n in range(args.warmup):
                await one(n)
                if floor is not None:
                    await floor_call(floor, floor_paths[n % len(floor_paths)])
            profiler = cProfile.Profile() if args.profile == "cprofile" else None
            if stages is not None:
                stages.spent.clear()
            sampler = None
            if args.profile == "pyinstrument":
                from pyinstrument import Profiler  # not a project dependency: pip install pyinstrument

                sampler = Profiler(interval=0.0002, async_mode="disabled")
            if switch is not None:
                await alternately(args, name, one, switch)
                continue
            if args.concurrency > 1:
                await concurrently(args, name, one, hub)
                continue
            spent, cpu, floor_spent, floor_cpu = [], [], [], []
            loop_thread = 0.0
            for n in range(args.requests):
                started, started_cpu, started_thread = time.perf_counter(), time.process_time(), time.thread_time()
                if profiler is not None:
                    profiler.enable()
                if sampler is not None:
                    sampler.start()
                if stages is not None:
                    stages.counting = True
                await one(n)
                if stages is not None:
                    stages.counting = False
                if sampler is not None:
                    sampler.stop()
                if profiler is not None:
                    profiler.disable()
                spent.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
                loop_thread += time.thread_time() - started_thread
                if floor is not None:  # interleaved: a change in the machine's load falls on both alike
                    started, started_cpu = time.perf_counter(), time.process_time()
                    await floor_call(floor, floor_paths[n % len(floor_paths)])
                    floor_spent.append((time.perf_counter() - started) * 1000)
                    floor_cpu.append((time.process_time() - started_cpu) * 1000)
            who = "the demo's unrestricted caller" if args.anonymous else "a token"
            print(f"scenario {name}: p50 {statistics.median(spent):.2f} ms (CPU {statistics.median(cpu):.2f} ms, "
                  f"mean {statistics.fmean(cpu):.2f} ms) over {args.requests} requests "
                  f"({who}, audit {'off' if args.no_audit else 'on'}, cache {args.cache})", flush=True)
            if floor is not None:
                p50, floor_p50 = statistics.median(spent), statistics.median(floor_spent)
                mean_cpu, floor_mean_cpu = statistics.fmean(cpu), statistics.fmean(floor_cpu)
                print(f"scenario {name}: floor p50 {floor_p50:.2f} ms (CPU {statistics.median(floor_cpu):.2f} ms, "
                      f"mean {floor_mean_cpu:.2f} ms); hub/floor p50 {p50 / floor_p50:.2f}x, "
                      f"mean CPU {mean_cpu / floor_mean_cpu:.2f}x", flush=True)
            if stages is not None:
                print(f"scenario {name}: CPU per request by stage (mean over {args.requests}; stages overlap):",
                      flush=True)
                print("\n".join(stages.lines(args.requests)), flush=True)
                print(f"  event loop thread per request {loop_thread * 1000 / args.requests:.3f} ms, process per "
                      f"request {statistics.fmean(cpu):.3f} ms", flush=True)
                stages.spent.clear()
            if profiler is not None:
                out = io.StringIO()
                stats = pstats.Stats(profiler, stream=out)
                stats.sort_stats("tottime").print_stats(args.top)
                stats.sort_stats("cumulative").print_stats(args.top)
                print(out.getvalue(), flush=True)
            if sampler is not None:
                print(sampler.output_text(unicode=False, color=False, show_all=False), flush=True)
    await hub.aclose()
    if stages is not None:
        stages.restore()


class AuditSwitch(DisclosureRecorder):
    """The hub's recorder, or none: ``--alternate`` turns the audit on and off between rounds."""

    def __init__(self, recorder: DisclosureRecorder) -> None:
        super().__init__(recorder.store)
        self.recorder: DisclosureRecorder = recorder
        self.on = True

    async def record(
        self, request_id: str, caller: Caller, document: str, operation_name: str | None, disclosed: Disclosed,
    ) -> int:
        if not self.on:
            return 0
        return await self.recorder.record(request_id, caller, document, operation_name, disclosed)


async def gathered(requests: int, concurrency: int, one: Any) -> tuple[float, float, float]:
    """``requests`` sent by ``concurrency`` tasks at once: (wall, user, system) seconds of this process."""
    queue = iter(range(requests))

    async def client() -> None:
        for n in queue:
            await one(n)

    times, started = os.times(), time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    wall, after = time.perf_counter() - started, os.times()
    return wall, after.user - times.user, after.system - times.system


async def alternately(args: argparse.Namespace, name: str, one: Any, switch: AuditSwitch) -> None:
    """``--alternate N``: N rounds of ``--requests`` each with the audit on and off in turn (on, off,
    off, on, ...: a drift in the machine's load falls on both sides alike), ``--concurrency`` at once:
    each side's median CPU per request and req/s, and the on/off ratios of those medians."""
    cpu: dict[bool, list[float]] = {True: [], False: []}
    rate: dict[bool, list[float]] = {True: [], False: []}
    for round_ in range(args.alternate):
        for on in ((True, False) if round_ % 2 == 0 else (False, True)):
            switch.on = on
            wall, user, system = await gathered(args.requests, args.concurrency, one)
            cpu[on].append((user + system) * 1000 / args.requests)
            rate[on].append(args.requests / wall)
            print(f"scenario {name} round {round_ + 1} audit {'on ' if on else 'off'}: {rate[on][-1]:.1f} req/s, "
                  f"CPU per request {cpu[on][-1]:.3f} ms (user {user * 1000 / args.requests:.3f}, system "
                  f"{system * 1000 / args.requests:.3f})", flush=True)
    switch.on = True
    on_cpu, off_cpu = statistics.median(cpu[True]), statistics.median(cpu[False])
    on_rate, off_rate = statistics.median(rate[True]), statistics.median(rate[False])
    print(f"scenario {name}: medians of {args.alternate} rounds, {args.concurrency} at once: CPU per request "
          f"{on_cpu:.3f} ms on, {off_cpu:.3f} ms off ({on_cpu / off_cpu:.2f}x); {on_rate:.1f} req/s on, "
          f"{off_rate:.1f} off ({on_rate / off_rate:.2f}x) (cache {args.cache})", flush=True)


async def concurrently(args: argparse.Namespace, name: str, one: Any, hub: Any) -> None:
    """``--concurrency N``: the timed requests sent by N tasks at once (as the bench's N clients), so the
    audit's records are written in groups: requests per second, the process's CPU per request (all its
    threads; user and system), and the audit's groups (how many, their mean and largest size) and, on an
    SQLite file, the writer's flushes of its log (each covers every group committed before it began)."""
    store = getattr(hub.disclosures, "store", None)
    groups = getattr(store, "groups", None)
    writer = getattr(store, "_file_writer", None)  # an SQLite file: its flushes (one covers many groups)
    groups_before = groups.groups if groups is not None else 0
    flushes_before = writer.flushes if writer is not None else 0
    wall, user, system = await gathered(args.requests, args.concurrency, one)
    written = (groups.groups - groups_before) if groups is not None else 0
    flushed = f", {writer.flushes - flushes_before} flushes" if writer is not None else ""
    grouped = (f"; audit groups {written}, mean {args.requests / written:.1f} records, largest {groups.largest}"
               f"{flushed}" if written else "; audit off")
    print(f"scenario {name}: {args.requests / wall:.1f} req/s with {args.concurrency} at once; CPU per request "
          f"{(user + system) * 1000 / args.requests:.3f} ms (user {user * 1000 / args.requests:.3f}, system "
          f"{system * 1000 / args.requests:.3f}){grouped} (cache {args.cache})", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("scenarios", nargs="*", default=["A", "B", "C"])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--cache", choices=("on", "off"), default="on")
    parser.add_argument("--floor", action="store_true",
                        help="also time the floor's request for each scenario, in this process, after each of the "
                             "hub's: its p50 and CPU per request, and the hub/floor ratios")
    parser.add_argument("--no-audit", action="store_true", help="the disclosure recorder replaced by a no-op")
    parser.add_argument("--anonymous", action="store_true",
                        help="no token: the demo's unrestricted caller (as hub-off; no view, no row filter)")
    parser.add_argument("--profile", choices=("cprofile", "pyinstrument"),
                        help="profile the timed requests (pyinstrument, a sampling profiler, is not installed "
                             "with the project)")
    parser.add_argument("--concurrency", type=int, default=1,
                        help="send the timed requests from this many tasks at once (the audit writes groups): "
                             "req/s, CPU per request (user, system) and the audit's group sizes; no profile")
    parser.add_argument("--alternate", type=int, metavar="ROUNDS",
                        help="the same hub with its audit on and off in turn, ROUNDS rounds of --requests each "
                             "(--concurrency at once): each side's median CPU per request and req/s, and on/off")
    parser.add_argument("--stages", action="store_true",
                        help="the timed requests' CPU per request by stage of the request path (bench/stages.py)")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--data-dir", type=Path, help="demo data generated before (the default: generated now)")
    args = parser.parse_args(argv)
    if args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    if args.alternate is not None and (args.alternate < 1 or args.no_audit or args.profile):
        parser.error("--alternate takes at least 1 round, and neither --no-audit nor --profile")
    if args.stages and (args.alternate is not None or args.concurrency > 1):
        parser.error("--stages times requests sent one at a time: neither --alternate nor --concurrency")
    logging.getLogger("hub").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="hub-bench-profile-") as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        if args.data_dir is None:
            from hub.demo.generate import generate

            generate(data_dir, seed=SEED, enterprises=ENTERPRISES, as_of=AS_OF)
        processes = Processes(Path(tmp))
        try:
            def service(name: str) -> list[str]:
                return ["-m", "hub.cli", "demo", "service", name, "--port", "{port}", "--data-dir", str(data_dir)]

            ecology, security = processes.start("ecology", service("ecology")), processes.start("security",
                                                                                                  service("security"))
            for child in (ecology, security):
                processes.wait_healthy(child)
            env = {"BENCH_DATA_DIR": str(data_dir), "BENCH_TODAY": AS_OF.isoformat(),
                   "BENCH_ECOLOGY_URL": ecology.url, "BENCH_SECURITY_URL": security.url + "/graphql"}
            state_dir = Path(tmp) / "state"
            state_dir.mkdir()
            asyncio.run(run(args, data_dir, env, state_dir))
        finally:
            processes.stop_all()
    print(json.dumps({"done": True}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
