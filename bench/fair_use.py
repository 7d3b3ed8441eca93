"""What the fair-use checks cost per request, measured in the bench's run (``make bench``) or alone
(``python -m bench.fair_use``).

The checks are one step before an operation (token bucket and cost budgets: one Lua script, which
for a client with a disclosure quota also reserves room for the subjects the operation's measure
forecasts) and, for such a client, the count after it (within the reservation, told from the number
of subjects, the answer goes at once and its subjects, pseudonyms for persons, and count are worked
out and sent after it, waited for by nobody; past it, its subjects worked out and a second script on
the request's path). Their cost is a round trip or two to Redis, far below what
end-to-end latency can resolve against its own noise, so it is timed directly, in this process,
through the hub's own gate (``hub.fairuse.FairUse``) on the real counters: Redis (``HUB_BENCH_REDIS``,
default ``redis://127.0.0.1:6379/0``, keys under a prefix of this run's own, deleted after) and the
in-process twin. Beside them, the floors: a bare ``PING`` over the counters' own connection and one
through redis-py (the general client the hub uses elsewhere). Every figure is measured in the same
rounds, interleaved (each round takes a slice of every kind in turn), so a change in the machine's
load falls on all of them alike. The quota'd requests each show a page of subjects not shown before
(the count's worst case: every subject is added), forecast as the hub forecasts the operation that
shows them (``enterprises(first: 20)``, ``person { identityVerification }``);
``..._past_reservation`` is the same page with no forecast, past its reservation by all 20: the hub
draws them from the replica's lease and counts them after the answer, as it does every such request
but those for a quota's last units; ``..._exact_lease_spent`` is that request when the lease cannot
cover it (measured with no lease at all: the same path), counted on its path by a second script.

p50 and mean are what a request waits for (from the check to the answer being free to go); CPU is
all this process spent per request, the counts sent after the answers included (each slice waits
for them before its CPU is read). The run's ratio divides a figure by the policies-on hub's p50
latency measured in the same run: the share of a request the checks take.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from hub.audit.records import Pseudonyms
from hub.audit.subjects import Disclosed
from hub.context import Caller
from hub.demo.ids import uscc
from hub.identifiers.id_number import id_check_char
from hub.fairuse.counters import Counters, MemoryCounters, RedisCounters
from hub.fairuse.gate import FairUse, Held
from hub.graphql.documents import DocumentCache
from hub.fairuse.limits import ClientLimits, FairUseSettings
from hub.fairuse.metrics import FairUseMetrics
from hub.fairuse.quotas import field_scopes
from hub.policy import load_policies
from hub.settings import load_settings

REDIS = os.environ.get("HUB_BENCH_REDIS", "redis://127.0.0.1:6379/0")
ITERATIONS = 2000  # per figure, taken in ROUNDS interleaved slices
ROUNDS = 20
WARM = 50  # unmeasured requests of each kind first: connections open, scripts loaded
SUBJECTS = 20  # a page of twenty enterprises, each shown under the quota'd scope
SCOPE = "market.enterprise:read"
IDENTITY = "security.identity:read"
TARGET_MS = 0.2
DAY_QUOTA = 20_000  # a day's quota of enterprises, spent by pages of SUBJECTS with no forecast
# Limits no bench request reaches: the checks run in full, nothing is refused.
OPEN = FairUseSettings(defaults=ClientLimits(rate=100_000.0, burst=1_000_000, cost_per_minute=10**14,
                                             cost_per_day=10**14))
PAGE = "{ enterprises(first: 20) { edges { node { uscc name } } } }"
CHECK = '{ person(idNumber: "130203196001010005") { identityVerification { found status } } }'
Step = Callable[[], Awaitable[None]]


def _forecasts() -> dict[str, dict[str, int]]:
    """The objects per type the hub's measure gives the operations the quota'd requests stand for."""
    from schema import build_schema

    documents = DocumentCache(build_schema()._schema)
    return {name: dict(documents.judged(documents.get(query), None, None)[1]) for name, query in
            (("page", PAGE), ("check", CHECK))}


def _gate(counters: Counters, settings: FairUseSettings = OPEN, registry: CollectorRegistry | None = None) -> FairUse:
    from schema import build_schema

    policies = load_policies(load_settings(environment="development").policies_dir, build_schema()._schema)
    pseudonyms = Pseudonyms(b"bench-fair-use-pseudonym-key-32b!")

    async def keyed() -> Pseudonyms:
        return pseudonyms

    return FairUse(settings, counters, FairUseMetrics(registry or CollectorRegistry()), field_scopes(policies), keyed)


def _pages(count: int = ITERATIONS + WARM) -> Iterator[Disclosed]:
    """``count`` pages of SUBJECTS enterprises, made beforehand, no subject on two pages."""
    made = []
    for page in range(count):
        disclosed = Disclosed()
        fields = disclosed.field_set({"Enterprise.uscc": "allow", "Enterprise.name": "allow"})
        for n in range(SUBJECTS):
            disclosed.add(("enterprise", uscc("91", "130203", f"{page * SUBJECTS + n:09d}")), fields)
        made.append(disclosed)
    return iter(made)


def _identity_checks() -> Iterator[Disclosed]:
    """ITERATIONS + WARM identity checks, each of one person not checked before (the quota's own example)."""
    made = []
    for n in range(ITERATIONS + WARM):
        first17 = f"130203{dt.date(1960, 1, 1) + dt.timedelta(days=n // 500):%Y%m%d}{n % 500:03d}"
        disclosed = Disclosed()
        fields = disclosed.field_set({"IdentityVerification.found": "allow", "IdentityVerification.status": "allow"})
        disclosed.add(("person", first17 + id_check_char(first17)), fields)
        made.append(disclosed)
    return iter(made)


def _check(gate: FairUse, caller: Caller) -> Step:
    async def step() -> None:
        assert isinstance(await gate.admit(caller, 120), Held)

    return step


def _check_and_count(
    gate: FairUse, caller: Caller, pages: Iterator[Disclosed], forecast: dict[str, int] | None
) -> Step:

    async def step() -> None:
        held = await gate.admit(caller, 120, forecast)
        assert isinstance(held, Held) and bool(held.reserved) == bool(forecast)
        assert await gate.disclose(caller, next(pages), held) is None

    return step


async def _interleaved(
    steps: dict[str, Step], gates: list[FairUse]
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Each step's wall times (ms), and the CPU this process spent per step (ms): what the hub itself
    pays, apart from waiting for Redis and for a turn on a busy machine's cores. A request's count sent
    after its answer is waited for after its time is taken and before the next request starts (so it
    neither shows in a request's time nor runs into the next one's), inside its slice's CPU."""
    took: dict[str, list[float]] = {name: [] for name in steps}
    cpu = dict.fromkeys(steps, 0.0)
    for _ in range(ROUNDS):
        for name, step in steps.items():
            times = took[name]
            cpu_started = time.process_time()
            for _ in range(ITERATIONS // ROUNDS):
                started = time.perf_counter()
                await step()
                times.append((time.perf_counter() - started) * 1000)
                for gate in gates:  # the count sent after the answer: its CPU counted, its time not waited for
                    await gate.settled()
            cpu[name] += time.process_time() - cpu_started
    return took, {name: spent * 1000 / len(took[name]) for name, spent in cpu.items()}


async def measure_checks() -> dict[str, Any]:
    """Per request, in ms: p50, mean and this process's CPU of the check alone and of check + quota
    count, per store, and of the floors."""
    figures: dict[str, Any] = {}
    prefix = f"hub:bench:fair:{uuid.uuid4().hex[:8]}:"
    redis = RedisCounters(REDIS, prefix=prefix)
    general = Redis.from_url(REDIS)
    plain = Caller(client_id="bench-fair", purpose="licensing")
    # A token's client as the hub reads it: its record kept at the registry's change counter (hub.oauth.live).
    read = {"registry_seen": 1, "purpose": "licensing"}
    quota = Caller(client_id="bench-fair-quota", quotas={SCOPE: 10_000_000}, **read)
    identity = Caller(client_id="bench-fair-identity", registry_seen=1, purpose="identity_check",
                      quotas={IDENTITY: 10_000_000})
    past = Caller(client_id="bench-fair-past", quotas={SCOPE: 10_000_000}, **read)
    exact = Caller(client_id="bench-fair-exact", quotas={SCOPE: 10_000_000}, **read)
    steps: dict[str, Step] = {}
    gates: list[FairUse] = []
    forecasts = _forecasts()
    try:
        await redis.ping()
    except Exception as exc:  # noqa: BLE001  no Redis here: say so, measure the in-process twin only
        figures["redis_unavailable"] = str(exc)
    else:
        async def ping() -> None:
            await redis.ping()

        async def general_ping() -> None:
            await general.ping()

        gate, leaseless = _gate(redis), _gate(redis, dataclasses.replace(OPEN, quota_lease=0))
        gates += [gate, leaseless]
        steps |= {
            "redis_ping": ping, "redis_py_ping": general_ping, "redis_check": _check(gate, plain),
            "redis_check_and_quota_person": _check_and_count(gate, identity, _identity_checks(), forecasts["check"]),
            "redis_check_and_quota": _check_and_count(gate, quota, _pages(), forecasts["page"]),
            "redis_check_and_quota_past_reservation": _check_and_count(gate, past, _pages(), None),
            "redis_check_and_quota_exact_lease_spent": _check_and_count(leaseless, exact, _pages(), None),
        }
    memory = _gate(MemoryCounters())
    gates.append(memory)
    steps |= {
        "memory_check": _check(memory, plain),
        "memory_check_and_quota_person": _check_and_count(memory, identity, _identity_checks(), forecasts["check"]),
        "memory_check_and_quota": _check_and_count(memory, quota, _pages(), forecasts["page"]),
    }
    try:
        for step in steps.values():
            for _ in range(WARM):
                await step()
        took, cpu = await _interleaved(steps, gates)
        day = await _a_day(redis, read) if "redis_unavailable" not in figures else None
    finally:
        await _forget(redis, general, prefix)
    for name, times in took.items():
        figures[name] = {"p50_ms": statistics.median(times), "mean_ms": statistics.fmean(times), "cpu_ms": cpu[name]}
    if day is not None:
        figures["redis_quota_day_past_forecast"] = day
    return figures


async def _a_day(counters: Counters, read: dict[str, Any]) -> dict[str, Any]:
    """A whole day of one client's quota (``DAY_QUOTA``, the default lease) spent by pages of SUBJECTS
    new enterprises with no forecast, every one past its reservation, from the day's first request to
    the first refusal: the exact counts among them (the first, which asks for a lease, and the quota's
    last units) in their real proportion. Each request's time, its count after the answer waited for
    before the next starts, as in the interleaved rounds."""
    registry = CollectorRegistry()
    gate = _gate(counters, registry=registry)
    caller = Caller(client_id="bench-fair-day", quotas={SCOPE: DAY_QUOTA}, **read)
    pages, times, answered = _pages(DAY_QUOTA // SUBJECTS + 1), [], 0
    cpu_started = time.process_time()
    for disclosed in pages:
        started = time.perf_counter()
        held = await gate.admit(caller, 120)
        assert isinstance(held, Held)
        refused = await gate.disclose(caller, disclosed, held)
        times.append((time.perf_counter() - started) * 1000)
        await gate.settled()
        if refused is not None:
            break
        answered += 1
    cpu = (time.process_time() - cpu_started) * 1000 / len(times)
    return {"p50_ms": statistics.median(times), "mean_ms": statistics.fmean(times), "cpu_ms": cpu,
            "requests": len(times), "answered": answered,
            "exact": int(registry.get_sample_value("hub_fair_use_quota_counts_total", {"path": "exact"}) or 0)}


async def _forget(redis: RedisCounters, general: Redis, prefix: str) -> None:
    await redis.aclose()
    try:
        keys = [key async for key in general.scan_iter(match=prefix + "*")]
        if keys:
            await general.delete(*keys)
    except Exception:  # noqa: BLE001  no Redis: nothing was written
        pass
    finally:
        await general.aclose()


def lines(figures: dict[str, Any], hub_p50_ms: float | None) -> list[str]:
    shown = ["", "Fair-use checks per request (hub.fairuse gate, timed in process):"]
    for key, value in figures.items():
        if key == "hub_on_p50_ms":
            continue
        if not isinstance(value, dict):
            shown.append(f"  Redis not measured: {value}")
            continue
        share = f", {value['p50_ms'] / hub_p50_ms:.2%} of hub-on's p50 ({hub_p50_ms:.2f} ms)" if hub_p50_ms else ""
        verdict = "within" if value["p50_ms"] < TARGET_MS else "OVER"
        target = "" if key.endswith("ping") else f" ({verdict} the {TARGET_MS} ms target)"
        trips = ""
        if (key.startswith("redis_check") or key == "redis_py_ping") and "redis_ping" in figures:
            trips = f", {value['p50_ms'] / figures['redis_ping']['p50_ms']:.1f} x a bare PING"
        day = f", {value['answered']} answered, {value['exact']} of them counted exactly" if "exact" in value else ""
        shown.append(f"  {key}: p50 {value['p50_ms'] * 1000:.0f} us, mean {value['mean_ms'] * 1000:.0f} us, "
                     f"CPU {value['cpu_ms'] * 1000:.0f} us{target}{trips}{share}{day}")
    return shown


def measured_apart() -> dict[str, Any]:
    """``measure_checks`` in a fresh interpreter of its own (``python -m bench.fair_use --json``), as
    the gate runs in a hub worker, not in the load generator's process."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.fair_use", "--json"], capture_output=True, text=True, timeout=600, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the fair-use measurement failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    figures: dict[str, Any] = json.loads(done.stdout)
    return figures


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    figures = asyncio.run(measure_checks())
    if args == ["--json"]:
        print(json.dumps(figures))
        return
    for line in lines(figures, None):
        print(line)


if __name__ == "__main__":
    main()
