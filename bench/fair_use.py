"""What the fair-use checks cost per request, measured in the bench's run (``make bench``) or alone
(``python -m bench.fair_use``).

The checks are one step before an operation (token bucket and cost budgets: one Lua script) and, for
a client with a disclosure quota, one after it (its subjects counted: pseudonyms and a second
script). Their cost is a few round trips to Redis, far below what end-to-end latency can resolve
against its own noise, so it is timed directly, in this process, through the hub's own gate
(``hub.fairuse.FairUse``) on the real counters: Redis (``HUB_BENCH_REDIS``, default
``redis://127.0.0.1:6379/0``, keys under a prefix of this run's own, deleted after) and the
in-process twin. The run's ratio divides it by the policies-on hub's p50 latency measured in the
same run: the share of a request the checks take.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from typing import Any

from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from hub.audit.records import Pseudonyms
from hub.audit.subjects import Disclosed
from hub.context import Caller
from hub.demo.ids import uscc
from hub.fairuse.counters import Counters, MemoryCounters, RedisCounters
from hub.fairuse.gate import FairUse
from hub.fairuse.limits import ClientLimits, FairUseSettings
from hub.fairuse.metrics import FairUseMetrics
from hub.fairuse.quotas import field_scopes
from hub.policy import load_policies
from hub.settings import load_settings

REDIS = os.environ.get("HUB_BENCH_REDIS", "redis://127.0.0.1:6379/0")
ITERATIONS = 2000
SUBJECTS = 20  # a page of twenty enterprises, each shown under the quota'd scope
SCOPE = "market.enterprise:read"
TARGET_MS = 0.2
# Limits no bench request reaches: the checks run in full, nothing is refused.
OPEN = FairUseSettings(defaults=ClientLimits(rate=100_000.0, burst=1_000_000, cost_per_minute=10**14,
                                             cost_per_day=10**14))


def _gate(counters: Counters) -> FairUse:
    from schema import build_schema

    policies = load_policies(load_settings(environment="development").policies_dir, build_schema()._schema)
    pseudonyms = Pseudonyms(b"bench-fair-use-pseudonym-key-32b!")

    async def keyed() -> Pseudonyms:
        return pseudonyms

    return FairUse(OPEN, counters, FairUseMetrics(CollectorRegistry()), field_scopes(policies), keyed)


def _page() -> Disclosed:
    disclosed = Disclosed()
    fields = disclosed.field_set({"Enterprise.uscc": "allow", "Enterprise.name": "allow"})
    for n in range(SUBJECTS):
        disclosed.add(("enterprise", uscc("91", "130203", f"{n:09d}")), fields)
    return disclosed


async def _timed(gate: FairUse, caller: Caller, disclosed: Disclosed | None) -> list[float]:
    took = []
    for _ in range(ITERATIONS):
        started = time.perf_counter()
        assert await gate.admit(caller, 120) is None
        if disclosed is not None:
            assert await gate.disclose(caller, disclosed) is None
        took.append((time.perf_counter() - started) * 1000)
    return took


async def measure_checks() -> dict[str, Any]:
    """Per request, in ms: p50 and mean of the check alone and of check + quota count, per store."""
    figures: dict[str, Any] = {}
    stores: list[tuple[str, Counters]] = [("memory", MemoryCounters())]
    prefix = f"hub:bench:fair:{uuid.uuid4().hex[:8]}:"
    redis = RedisCounters(REDIS, prefix=prefix)
    try:
        await redis.usage("probe", OPEN.defaults, 0.0, 0, ())
        stores.insert(0, ("redis", redis))
    except Exception as exc:  # noqa: BLE001  no Redis here: say so, measure the in-process twin only
        figures["redis_unavailable"] = str(exc)
    plain = Caller(client_id="bench-fair", purpose="licensing")
    quota = Caller(client_id="bench-fair-quota", purpose="licensing", quotas={SCOPE: 10_000_000})
    if len(stores) == 2:
        figures["redis_ping"] = await _pings(redis)
    for name, counters in stores:
        gate = _gate(counters)
        await _timed(gate, plain, None)  # warm: scripts loaded, connections open
        for label, caller, page in (("check", plain, None), ("check_and_quota", quota, _page())):
            took = await _timed(gate, caller, page)
            figures[f"{name}_{label}"] = {"p50_ms": statistics.median(took), "mean_ms": statistics.fmean(took)}
    await _forget(redis, prefix)
    return figures


async def _pings(redis: RedisCounters) -> dict[str, float]:
    """One bare round trip to the same Redis through the same client: the floor a shared check stands on."""
    took = []
    for _ in range(ITERATIONS):
        started = time.perf_counter()
        await redis.ping()
        took.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": statistics.median(took), "mean_ms": statistics.fmean(took)}


async def _forget(redis: RedisCounters, prefix: str) -> None:
    await redis.aclose()
    client = Redis.from_url(REDIS)
    try:
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


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
        target = "" if key == "redis_ping" else f" ({verdict} the {TARGET_MS} ms target)"
        trips = ""
        if key.startswith("redis_check") and "redis_ping" in figures:
            trips = f", {value['p50_ms'] / figures['redis_ping']['p50_ms']:.1f} x a bare PING"
        shown.append(f"  {key}: p50 {value['p50_ms'] * 1000:.0f} us, mean {value['mean_ms'] * 1000:.0f} us"
                     f"{target}{trips}{share}")
    return shown


def main() -> None:
    for line in lines(asyncio.run(measure_checks()), None):
        print(line)


if __name__ == "__main__":
    main()
