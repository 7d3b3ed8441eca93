"""A replica's lease: an answer past its own reservation takes the rest from units its replica holds,
with no second round trip on its path.

The counters' contract on both implementations (a lease is granted from no more than half the room
left, counted as held like any reservation; a settle takes from it only the subjects new beyond the
ticket's own units; an exact count gives its own replica's free units back first; a lease never
given back counts until its day ends). Then the gate on real Redis, the scripts counted on the wire:
past its reservation from the lease, the lease spent -> exact, the day rolling over, Redis lost,
replicas (gates, then OS processes) racing for a quota's last units, and a replica process killed
holding its lease.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from hub.audit.records import Pseudonyms
from hub.context import Caller
from hub.fairuse.counters import ADMIT, DISCLOSE, SETTLE, Counters, RedisCounters
from hub.fairuse.gate import NOTHING_HELD, FairUse, Refusal
from hub.fairuse.limits import ClientLimits, FairUseSettings, LimitsError
from hub.fairuse.metrics import FairUseMetrics
from tests.fairuse.test_reservations import _scopes, behind_switch, held, page

NOW = 1_800_000_000.0
DAY = 20_833
OPEN = ClientLimits(rate=1000.0, burst=1000)
SCOPE = "market.enterprise:read"
ROOT = Path(__file__).resolve().parents[2]


# --- the counters' contract --------------------------------------------------------------------------


async def held_and_shown(counters: Counters, client: str = "c1", day: int = DAY, scope: str = "s") -> tuple[int, int]:
    usage = await counters.usage(client, OPEN, NOW, day, (scope,))
    return usage.subjects_today[scope], usage.held[scope]


async def test_a_lease_is_granted_after_the_requests_own_units_from_half_the_room_left(counters: Counters) -> None:
    await counters.disclose("c1", DAY, {"s": (20, {"a", "b"})})
    admitted = await counters.admit("c1", OPEN, 1, NOW, DAY, {"s": (20, 6)}, "t1", {"s": (20, 10)}, "lease.r1")
    assert (dict(admitted.reserved), dict(admitted.leased)) == ({"s": 6}, {"s": 6})  # (20 - 2 - 6) // 2
    again = await counters.admit("c1", OPEN, 1, NOW, DAY, None, "", {"s": (20, 10)}, "lease.r1")
    assert (dict(again.reserved), dict(again.leased)) == ({}, {"s": 3})  # (20 - 2 - 12) // 2: shrinking
    assert await held_and_shown(counters) == (2, 15)
    others = [await counters.admit("c1", OPEN, 1, NOW, DAY, None, "", {"s": (20, 10)}, "lease.r2") for _ in range(3)]
    assert [a.leased["s"] for a in others] == [1, 1, 0]  # the last unit of room is never leased: counted exactly
    assert await held_and_shown(counters) == (2, 17)


async def test_a_settle_takes_from_the_lease_only_the_subjects_new_beyond_its_tickets_units(
    counters: Counters,
) -> None:
    await counters.disclose("c1", DAY, {"s": (100, {"old"})})
    await counters.admit("c1", OPEN, 1, NOW, DAY, {"s": (100, 2)}, "t1", {"s": (100, 10)}, "lease.r1")
    assert await held_and_shown(counters) == (1, 12)
    shown = {"s": {"old", "a", "b", "c", "d"}}  # 5 shown, 4 new: 2 held by its ticket, 2 from the lease
    for _ in range(3):  # sent again, it takes nothing more
        taken = await counters.settle("c1", DAY, "t1", shown, "lease.r1")
        assert dict(taken) in ({"s": 2}, {})
    assert await held_and_shown(counters) == (5, 8)
    assert dict(await counters.settle("c1", DAY, "t2", {"s": {"e"}}, "lease.r1")) == {"s": 1}  # no ticket held
    assert dict(await counters.settle("c1", DAY, "t3", {"s": {"a", "e"}}, "lease.r1")) == {}  # none new
    assert await held_and_shown(counters) == (6, 7)


async def test_an_exact_count_gives_its_replicas_free_lease_units_back_first_whatever_it_decides(
    counters: Counters,
) -> None:
    await counters.admit("c1", OPEN, 1, NOW, DAY, None, "", {"s": (10, 5)}, "lease.r1")  # (10 - 0) // 2
    await counters.admit("c1", OPEN, 1, NOW, DAY, {"s": (10, 3)}, "other")
    assert await held_and_shown(counters) == (0, 8)
    refs = {f"x{i}" for i in range(7)}
    assert await counters.disclose("c1", DAY, {"s": (10, refs)}, "", "lease.r1", {"s": 5}) is None  # 7 <= 10 - 3
    assert await held_and_shown(counters) == (7, 3)
    await counters.admit("c1", OPEN, 1, NOW + 1, DAY + 1, None, "", {"s": (10, 5)}, "lease.r1")
    refused = await counters.disclose("c1", DAY + 1, {"s": (10, {f"y{i}" for i in range(11)})}, "", "lease.r1",
                                      {"s": 5})
    assert refused is not None and (refused.used, refused.asked, refused.held) == (0, 11, 0)
    assert await held_and_shown(counters, day=DAY + 1) == (0, 0)  # given back though refused


async def test_a_lease_never_given_back_counts_as_held_until_its_day_ends(counters: Counters) -> None:
    await counters.admit("c1", OPEN, 1, NOW, DAY, None, "", {"s": (10, 4)}, "lease.killed")  # then killed
    refused = await counters.disclose("c1", DAY, {"s": (10, {f"x{i}" for i in range(7)})})
    assert refused is not None and (refused.used, refused.asked, refused.held) == (0, 7, 4)
    assert await counters.disclose("c1", DAY, {"s": (10, {f"x{i}" for i in range(6)})}) is None  # 6 + 4: the quota
    assert await held_and_shown(counters, day=DAY + 1) == (0, 0)  # a new day: nothing held


async def test_leases_and_reservations_racing_never_hold_more_than_the_room_left(counters: Counters) -> None:
    await counters.disclose("c1", DAY, {"s": (50, {"a", "b", "c", "d"})})
    raced = await asyncio.gather(*(
        counters.admit("c1", OPEN, 1, NOW, DAY, {"s": (50, 3)} if i % 2 else None, f"t{i}" if i % 2 else "",
                       {"s": (50, 8)}, f"lease.r{i % 3}")
        for i in range(30)
    ))
    granted = sum(a.reserved.get("s", 0) + a.leased.get("s", 0) for a in raced)
    shown, held_now = await held_and_shown(counters)
    assert (shown, held_now) == (4, granted) and shown + held_now <= 50


@pytest.mark.parametrize(("lease", "holder", "ticket"), [
    ({"s": (5, 1)}, "", ""),
    ({"s": (5, 1)}, "t1", "t1"),
    ({"s": (5, 1)}, "lease*r", ""),
    ({"s": (5, 1)}, "x" * 65, ""),
    ({"s": (0, 1)}, "lease.r", ""),
    ({"s": (5, -2)}, "lease.r", ""),
    ({"s": (5, 2.5)}, "lease.r", ""),
])
async def test_a_lease_with_no_holder_the_requests_own_ticket_or_not_whole_numbers_is_refused_counting_nothing(
    counters: Counters, lease: Any, holder: str, ticket: str
) -> None:
    reserve = {"s": (5, 1)} if ticket else None
    with pytest.raises(ValueError, match="reservation|lease"):
        await counters.admit("c1", OPEN, 1, NOW, DAY, reserve, ticket, lease, holder)
    usage = await counters.usage("c1", OPEN, NOW, DAY, ("s",))
    assert (usage.tokens, dict(usage.held)) == (1000, {"s": 0})


# --- the gate, the scripts counted on the wire -------------------------------------------------------


class Sent:
    """The scripts a ``RedisCounters`` sends, by name, in order (its own connection, real Redis)."""

    NAMES = {id(ADMIT): "admit", id(DISCLOSE): "disclose", id(SETTLE): "settle"}

    def __init__(self, counters: RedisCounters) -> None:
        self.scripts: list[str] = []
        wire = counters._wire
        encoded = wire.evalsha_encoded  # every script goes through it (``evalsha`` encodes, then calls it)

        async def evalsha_encoded(script: Any, *args: Any) -> Any:
            self.scripts.append(self.NAMES[id(script)])
            return await encoded(script, *args)

        wire.evalsha_encoded = evalsha_encoded  # type: ignore[method-assign]


def leasing_gate(counters: Counters, share: float = 0.1, clock: float = NOW) -> FairUse:
    pseudonyms = Pseudonyms(b"test-leases-pseudonym-key-32b!!!")

    async def keyed() -> Pseudonyms:
        return pseudonyms

    settings = FairUseSettings(defaults=OPEN, quota_lease=share)
    found = FairUse(settings, counters, FairUseMetrics(CollectorRegistry()), _scopes(), keyed)
    found.clock = lambda: clock
    return found


def counted(fair: FairUse, path: str) -> float:
    return fair.metrics.counts.labels(path)._value.get()  # type: ignore[no-any-return]


@asynccontextmanager
async def on_redis(redis_url: str, prefix: str) -> AsyncIterator[RedisCounters]:
    counters = RedisCounters(redis_url, prefix=prefix)
    try:
        yield counters
    finally:
        await counters.aclose()


async def used(counters: Counters, client: str, day: int) -> tuple[int, int]:
    return await held_and_shown(counters, client, day, SCOPE)


@pytest.mark.redis
async def test_an_answer_past_its_reservation_takes_the_rest_from_the_lease_with_one_script_on_its_path(
    redis_url: str, redis_prefix: str
) -> None:
    async with on_redis(redis_url, redis_prefix) as counters:
        sent, fair = Sent(counters), leasing_gate(counters)
        who = Caller(registry_seen=1, client_id="l1", purpose="licensing", quotas={SCOPE: 1000})  # a lease of 100
        assert await fair.disclose(who, page(0, 3), held(await fair.admit(who, 1, {"Enterprise": 1}))) is None
        assert sent.scripts == ["admit", "disclose"]  # the first one past it: exact, and a lease wanted
        await fair.settled()
        day = fair.day(NOW)
        first = held(await fair.admit(who, 1, {"Enterprise": 2}))  # tops the lease up in its own script
        assert await used(counters, "l1", day) == (3, 2 + 100)
        sent.scripts.clear()
        assert await fair.disclose(who, page(10, 7), first) is None  # 7 shown, 2 reserved, 5 from the lease
        assert sent.scripts == []  # nothing awaited on the path past the admission
        await fair.settled()
        assert sent.scripts == ["settle"]
        assert await used(counters, "l1", day) == (10, 95)
        for n in range(3):  # no reservation at all (nothing forecast): all from the lease
            assert await fair.disclose(who, page(100 + n * 10, 4), held(await fair.admit(who, 1))) is None
        await fair.settled()
        assert Counter(sent.scripts) == {"admit": 3, "settle": 4}  # each answer's settle after it, none before
        assert await used(counters, "l1", day) == (22, 83)
        assert (counted(fair, "exact"), counted(fair, "lease")) == (1, 4)


@pytest.mark.redis
async def test_subjects_shown_before_cost_the_lease_nothing_once_settled(redis_url: str, redis_prefix: str) -> None:
    async with on_redis(redis_url, redis_prefix) as counters:
        fair, who = leasing_gate(counters), Caller(registry_seen=1, client_id="l2", purpose="licensing", quotas={SCOPE: 200})
        await fair.disclose(who, page(0, 5), NOTHING_HELD)  # exact; a lease wanted
        await fair.admit(who, 1)  # a lease of 20
        lease = fair._leases[("l2", SCOPE)]
        assert (lease.units, lease.drawn) == (20, 0)
        assert await fair.disclose(who, page(0, 6), NOTHING_HELD) is None  # 6 drawn, 1 of them new
        assert (lease.units, lease.drawn) == (20, 6)  # over-counted while it settles
        await fair.settled()
        assert (lease.units, lease.drawn) == (19, 0)  # the 5 already shown given back
        assert await used(counters, "l2", fair.day(NOW)) == (6, 19)


@pytest.mark.redis
async def test_an_answer_its_lease_cannot_cover_is_counted_exactly_its_lease_given_back_in_that_count(
    redis_url: str, redis_prefix: str
) -> None:
    async with on_redis(redis_url, redis_prefix) as counters:
        sent, fair = Sent(counters), leasing_gate(counters)
        who = Caller(registry_seen=1, client_id="l3", purpose="licensing", quotas={SCOPE: 40})  # a lease of 4
        await fair.disclose(who, page(0, 2), NOTHING_HELD)
        await fair.admit(who, 1)
        day = fair.day(NOW)
        assert await used(counters, "l3", day) == (2, 4)
        sent.scripts.clear()
        assert await fair.disclose(who, page(10, 6), NOTHING_HELD) is None  # 6 > 4: exact, on its path
        assert sent.scripts == ["disclose"]
        assert await used(counters, "l3", day) == (8, 0)  # the lease's 4 were room for it
        assert fair._leases[("l3", SCOPE)].units == 0
        assert await fair.admit(who, 1) is NOTHING_HELD  # topped up again, from half the room left at most
        assert await used(counters, "l3", day) == (8, 4)
        refusal = await fair.disclose(who, page(100, 33), NOTHING_HELD)  # 8 + 33 > 40, its lease given back
        assert refusal is not None and refusal.status == 429 and "held" not in refusal.extensions
        assert await used(counters, "l3", day) == (8, 0)


@pytest.mark.redis
async def test_answers_drawing_one_lease_at_once_never_draw_more_than_it_holds(
    redis_url: str, redis_prefix: str
) -> None:
    async with on_redis(redis_url, redis_prefix) as counters:
        sent, fair = Sent(counters), leasing_gate(counters)
        who = Caller(registry_seen=1, client_id="l4", purpose="licensing", quotas={SCOPE: 100})  # a lease of 10
        await fair.disclose(who, page(0, 1), NOTHING_HELD)
        admitted = [held(await fair.admit(who, 1)) for _ in range(4)]  # the first tops up; the rest need not
        assert await used(counters, "l4", fair.day(NOW)) == (1, 10)
        sent.scripts.clear()
        outcomes = [await fair.disclose(who, page(100 + 10 * n, 3), admitted[n]) for n in range(4)]
        assert outcomes == [None] * 4
        assert sent.scripts[0] == "disclose" and sent.scripts.count("disclose") == 1  # 3 + 3 + 3 drawn; the
        # fourth found 1 free and went exact (the others' settles started while it waited)
        await fair.settled()
        assert await used(counters, "l4", fair.day(NOW)) == (13, 0)  # the exact count took the free unit back


@pytest.mark.redis
async def test_a_new_days_first_admission_takes_that_days_lease_the_old_ones_units_left_with_its_day(
    redis_url: str, redis_prefix: str
) -> None:
    async with on_redis(redis_url, redis_prefix) as counters:
        fair, who = leasing_gate(counters), Caller(registry_seen=1, client_id="l5", purpose="licensing", quotas={SCOPE: 100})
        evening = fair.day_ends(fair.day(NOW)) - 0.5
        fair.clock = lambda: evening
        await fair.disclose(who, page(0, 1), NOTHING_HELD)
        late = held(await fair.admit(who, 1, {"Enterprise": 1}))  # admitted before midnight, with a lease
        yesterday = fair.day(evening)
        assert await used(counters, "l5", yesterday) == (1, 11)
        fair.clock = lambda: evening + 1
        refusal = await fair.disclose(who, page(10, 3), late)  # answered after: exact, today's lease not yet had
        assert refusal is None and counted(fair, "exact") == 2
        await fair.settled()
        assert await used(counters, "l5", yesterday) == (1, 10)  # yesterday's lease stays with yesterday's keys
        assert await fair.admit(who, 1) is NOTHING_HELD  # today's lease
        assert await used(counters, "l5", yesterday + 1) == (3, 10)
        assert await fair.disclose(who, page(20, 4), NOTHING_HELD) is None
        await fair.settled()
        assert (counted(fair, "lease"), await used(counters, "l5", yesterday + 1)) == (1, (7, 6))


@pytest.mark.redis
async def test_with_redis_gone_a_quotad_request_is_refused_503_and_an_answer_drawn_before_over_counts(
    redis_url: str, redis_prefix: str
) -> None:
    async with on_redis(redis_url, redis_prefix) as direct:
        async with behind_switch(redis_url, redis_prefix) as (counters, switch):
            fair, who = leasing_gate(counters), Caller(registry_seen=1, client_id="l6", purpose="licensing", quotas={SCOPE: 100})
            await fair.disclose(who, page(0, 1), NOTHING_HELD)
            admitted = held(await fair.admit(who, 1))
            switch.off()  # the answer drawn from the lease may go; its count after it finds Redis gone
            assert await fair.disclose(who, page(10, 4), admitted) is None
            await fair.settled()
            assert fair.metrics.unsettled._value.get() == 1
            lease = fair._leases[("l6", SCOPE)]
            assert (lease.units, lease.drawn) == (6, 0)  # the 4 drawn never drawn again
            refused = await fair.admit(who, 1)  # the next request: no answer that cannot be counted
            assert isinstance(refused, Refusal) and refused.status == 503
            assert refused.extensions["code"] == "QUOTA_UNAVAILABLE"
        assert await used(direct, "l6", fair.day(NOW)) == (1, 10)  # the 4 shown stay counted in the lease


# --- replicas racing for a quota's last units --------------------------------------------------------


@pytest.mark.redis
async def test_two_gates_with_leases_racing_for_a_quotas_last_units_never_pass_it(
    redis_url: str, redis_prefix: str
) -> None:
    async with on_redis(redis_url, redis_prefix) as one, on_redis(redis_url, redis_prefix) as two:
        gates = (leasing_gate(one, 0.25), leasing_gate(two, 0.25))
        who = Caller(registry_seen=1, client_id="race", purpose="licensing", quotas={SCOPE: 60})
        for n, fair in enumerate(gates):
            await fair.disclose(who, page(10_000 * (n + 1), 1), NOTHING_HELD)  # a lease wanted on each

        async def request(n: int) -> bool:
            fair = gates[n % 2]
            admitted = held(await fair.admit(who, 1, {"Enterprise": 1}))
            await asyncio.sleep(0.001 * (n % 3))
            return await fair.disclose(who, page(100 * n, 1 + n % 4), admitted) is None

        outcomes = await asyncio.gather(*(request(n) for n in range(60)))
        await asyncio.gather(*(fair.settled() for fair in gates))
        shown, held_now = await used(one, "race", gates[0].day(NOW))
        answered = 2 + sum(1 + n % 4 for n in range(60) if outcomes[n])
        assert shown == answered and shown + held_now <= 60
        assert sum(counted(fair, "lease") for fair in gates) > 0


REPLICA = """
import asyncio, json, sys
from tests.fairuse.test_leases import replica
print("ready", flush=True)
sys.stdin.readline()
print(json.dumps(asyncio.run(replica(*sys.argv[1:]))))
"""


async def replica(redis_url: str, prefix: str, name: str, requests: str) -> dict[str, Any]:
    """One replica's gate in its own process: a lease wanted, then its requests each showing 1-4 new
    subjects with 1 reserved, at once; what it answered and how. Alone, a replica's requests would fit
    the quota; together, they do not."""
    counters = RedisCounters(redis_url, prefix=prefix)
    fair = leasing_gate(counters, 0.25, clock=NOW)
    who = Caller(registry_seen=1, client_id="processes", purpose="licensing", quotas={SCOPE: 80})
    base = 1_000_000 if name == "east" else 2_000_000
    try:
        answered = [await fair.disclose(who, page(base, 1), NOTHING_HELD) is None]

        async def request(n: int) -> tuple[bool, int]:
            admitted = held(await fair.admit(who, 1, {"Enterprise": 1}))
            await asyncio.sleep(0.001 * (n % 3))
            return await fair.disclose(who, page(base + 10 * (n + 1), 1 + n % 4), admitted) is None, 1 + n % 4

        done = await asyncio.gather(*(request(n) for n in range(int(requests))))
        await fair.settled()
        shown = (1 if answered[0] else 0) + sum(size for ok, size in done if ok)
        return {"shown": shown, "lease": counted(fair, "lease"), "exact": counted(fair, "exact")}
    finally:
        await counters.aclose()


@pytest.mark.slow
@pytest.mark.redis
async def test_two_replica_processes_with_leases_racing_for_a_quotas_last_units_never_pass_it(
    redis_url: str, redis_prefix: str
) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = [
        subprocess.Popen([sys.executable, "-c", REPLICA, redis_url, redis_prefix, name, "20"], cwd=ROOT, env=env,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name in ("east", "west")
    ]
    for process in started:  # both loaded, then both at once
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    for process in started:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    reports = []
    for process in started:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))
    async with on_redis(redis_url, redis_prefix) as counters:
        shown, held_now = await used(counters, "processes", leasing_gate(counters).day(NOW))
    assert shown == sum(report["shown"] for report in reports)  # every answer given was counted, once
    assert shown + held_now <= 80
    assert all(report["lease"] > 0 for report in reports), reports  # each replica answered from its lease


LEASING = """
import asyncio, sys, time
from tests.fairuse.test_leases import leasing_replica
print(asyncio.run(leasing_replica(*sys.argv[1:])), flush=True)
time.sleep(600)
"""


async def leasing_replica(redis_url: str, prefix: str) -> int:
    """A replica that takes a lease (its first answer past its reservation counted exactly, the next
    admission asking for one) and then answers nothing more; the units it holds."""
    counters = RedisCounters(redis_url, prefix=prefix)
    fair = leasing_gate(counters)
    who = Caller(registry_seen=1, client_id="l7", purpose="licensing", quotas={SCOPE: 50})  # a lease of 5
    try:
        await fair.disclose(who, page(0, 1), NOTHING_HELD)
        await fair.admit(who, 1)
        return fair._leases[("l7", SCOPE)].units
    finally:
        await counters.aclose()


@pytest.mark.slow
@pytest.mark.redis
async def test_a_killed_replicas_lease_over_counts_for_the_rest_of_its_day_only(redis_url: str, redis_prefix: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-c", LEASING, redis_url, redis_prefix], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "5"  # it holds a lease of 5
    finally:
        process.kill()  # SIGKILL: nothing given back
        process.wait(timeout=30)
    async with on_redis(redis_url, redis_prefix) as counters:
        alive = leasing_gate(counters)
        who = Caller(registry_seen=1, client_id="l7", purpose="licensing", quotas={SCOPE: 50})
        day = alive.day(NOW)
        assert await used(counters, "l7", day) == (1, 5)
        refusal = await alive.disclose(who, page(100, 45), NOTHING_HELD)  # 1 + 5 held + 45 > 50
        assert refusal is not None and refusal.extensions["held"] == 5
        assert await alive.disclose(who, page(100, 44), NOTHING_HELD) is None  # over-counted by 5, never under
        tomorrow = leasing_gate(counters, clock=NOW + 86_400)
        assert await tomorrow.disclose(who, page(100, 50), NOTHING_HELD) is None  # a new day: nothing held


# --- the setting -------------------------------------------------------------------------------------


def test_the_lease_is_a_share_of_each_quota_set_in_the_settings_and_checked() -> None:
    assert FairUseSettings().quota_lease == 0.02
    assert FairUseSettings.from_mapping({"quota_lease": "0.1"}).quota_lease == 0.1
    assert FairUseSettings.from_mapping({"quota_lease": 0}).quota_lease == 0
    for bad in (-0.01, 0.5, "half", float("nan"), True, [0.1]):
        with pytest.raises(LimitsError, match="quota_lease"):
            FairUseSettings.from_mapping({"quota_lease": bad})


async def test_with_no_lease_share_an_answer_past_its_reservation_is_counted_exactly_as_before(
    counters: Counters,
) -> None:
    fair, who = leasing_gate(counters, 0), Caller(registry_seen=1, client_id="l8", purpose="licensing", quotas={SCOPE: 1000})
    for n in range(3):
        assert await fair.disclose(who, page(n * 10, 3), held(await fair.admit(who, 1, {"Enterprise": 1}))) is None
    assert (counted(fair, "exact"), counted(fair, "lease"), fair._leases) == (3, 0, {})


async def test_a_quota_lowered_during_the_day_holds_from_the_next_request_though_a_lease_was_granted_under_the_old(
    counters: Counters,
) -> None:
    fair = leasing_gate(counters)
    before = Caller(registry_seen=1, client_id="l9", purpose="licensing", quotas={SCOPE: 1000})  # a lease of 100
    assert await fair.disclose(before, page(0, 3), NOTHING_HELD) is None  # exact; a lease wanted
    await fair.admit(before, 1)
    day = fair.day(NOW)
    assert await used(counters, "l9", day) == (3, 100)
    after = Caller(registry_seen=1, client_id="l9", purpose="licensing", quotas={SCOPE: 10})  # the owner lowers it to 10
    refusal = await fair.disclose(after, page(10, 20), held(await fair.admit(after, 1)))  # 3 + 20 > 10
    assert isinstance(refusal, Refusal) and refusal.status == 429 and refusal.extensions["quota"] == 10
    await fair.settled()
    assert await used(counters, "l9", day) == (3, 0)  # the lease granted under 1000 given back, unused
    assert await fair.disclose(after, page(10, 7), held(await fair.admit(after, 1))) is None  # 3 + 7: the quota
    await fair.settled()
    assert await used(counters, "l9", day) == (10, 0)
    raised = Caller(registry_seen=1, client_id="l9", purpose="licensing", quotas={SCOPE: 2000})  # raised again: leases again
    await fair.admit(raised, 1)
    assert await used(counters, "l9", day) == (10, 200)
    assert await fair.disclose(raised, page(100, 50), held(await fair.admit(raised, 1))) is None
    assert counted(fair, "lease") == 1


async def test_a_lease_granted_under_a_lower_quota_draws_nothing_once_a_higher_one_was_seen(
    counters: Counters,
) -> None:
    low = Caller(registry_seen=1, client_id="l10", purpose="licensing", quotas={SCOPE: 100})
    high = Caller(registry_seen=1, client_id="l10", purpose="licensing", quotas={SCOPE: 1000})
    here, there = leasing_gate(counters), leasing_gate(counters, 0)
    assert await here.disclose(low, page(0, 1), NOTHING_HELD) is None
    await here.admit(low, 1)  # a lease of 10 under 100
    day = here.day(NOW)
    assert await there.disclose(high, page(1000, 989), NOTHING_HELD) is None  # raised: 1 + 10 held + 989
    assert await used(counters, "l10", day) == (990, 10)
    await here.admit(high, 1)  # seen here; its top-up finds no room left, the 10 still held
    assert await used(counters, "l10", day) == (990, 10)
    refusal = await here.disclose(low, page(10, 5), held(await here.admit(low, 1)))  # lowered back: 990 > 100
    assert isinstance(refusal, Refusal) and refusal.status == 429 and refusal.extensions["used"] == 990
    assert (counted(here, "lease"), await used(counters, "l10", day)) == (0, (990, 0))


class Paused:
    """Counters whose next admission once ``hold`` is called waits, once it has run, for ``go``."""

    def __init__(self, inner: Counters) -> None:
        self.inner, self.ran, self.go, self.holding = inner, asyncio.Event(), asyncio.Event(), False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def hold(self) -> None:
        self.holding = True

    async def admit(self, *args: Any) -> Any:
        admitted = await self.inner.admit(*args)
        if self.holding:
            self.holding = False
            self.ran.set()
            await self.go.wait()
        return admitted


async def test_a_top_up_granted_while_its_clients_quota_changed_here_is_good_for_no_quota(
    counters: Counters,
) -> None:
    low = Caller(registry_seen=1, client_id="l11", purpose="licensing", quotas={SCOPE: 100})
    high = Caller(registry_seen=1, client_id="l11", purpose="licensing", quotas={SCOPE: 1000})
    paused = Paused(counters)
    here, there = leasing_gate(paused), leasing_gate(counters, 0)  # type: ignore[arg-type]
    assert await here.disclose(low, page(0, 1), NOTHING_HELD) is None
    await here.admit(low, 1)  # a lease of 10 under 100
    assert await here.disclose(low, page(10, 6), NOTHING_HELD) is None  # 6 drawn: the next admission tops up
    await here.settled()
    paused.hold()
    topping = asyncio.ensure_future(here.admit(low, 1))  # granted 6 under 100, its answer held back
    await paused.ran.wait()
    day = here.day(NOW)
    assert await used(counters, "l11", day) == (7, 10)
    assert await there.disclose(high, page(1000, 900), NOTHING_HELD) is None  # raised meanwhile: 917 <= 1000
    await here.admit(high, 1)  # seen here (its answer, within a reservation or none, would draw nothing)
    await here.admit(low, 1)  # and lowered back, seen here too, while the top-up is still on its way
    paused.go.set()
    await topping
    assert (here._leases[("l11", SCOPE)].units, await used(counters, "l11", day)) == (10, (907, 10))
    refusal = await here.disclose(low, page(20, 3), held(await here.admit(low, 1)))  # 907 shown > 100
    assert isinstance(refusal, Refusal) and refusal.status == 429 and refusal.extensions["used"] == 907
    assert (counted(here, "lease"), await used(counters, "l11", day)) == (1, (907, 0))  # given back in the count


async def test_a_replica_keeping_as_many_leases_as_it_may_drops_none_that_hold_units(
    counters: Counters, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("hub.fairuse.gate.LEASES_KEPT", 2)
    fair, day = leasing_gate(counters), DAY
    clients = [Caller(registry_seen=1, client_id=f"k{n}", purpose="licensing", quotas={SCOPE: 100}) for n in range(4)]
    fair.clock = lambda: NOW - 86_400  # yesterday: k3's lease, of a day gone, holds units of that day
    await fair.disclose(clients[3], page(0, 1), NOTHING_HELD)
    await fair.admit(clients[3], 1)
    fair.clock = lambda: NOW
    day = fair.day(NOW)
    for who in clients[:2]:  # k0's lease (10 units) takes the place of yesterday's; k1's the other
        await fair.disclose(who, page(0, 1), NOTHING_HELD)
        await fair.admit(who, 1)
        assert await used(counters, who.client_id, day) == (1, 10)
    for _ in range(3):  # another client's answers past their reservation: no lease for it, and none dropped
        assert await fair.disclose(clients[2], page(100, 2), held(await fair.admit(clients[2], 1))) is None
    for who in clients[:2]:  # their leases still draw, and were never leased twice
        assert await fair.disclose(who, page(10, 4), held(await fair.admit(who, 1))) is None
        await fair.settled()
        assert await used(counters, who.client_id, day) == (5, 6)
    assert (counted(fair, "lease"), counted(fair, "exact")) == (2, 6)
    assert sorted(fair._leases) == [("k0", SCOPE), ("k1", SCOPE)]


async def test_admissions_while_a_top_up_is_on_its_way_ask_for_none_so_the_lease_never_passes_its_size(
    counters: Counters,
) -> None:
    paused, who = Paused(counters), Caller(registry_seen=1, client_id="l12", purpose="licensing", quotas={SCOPE: 100})
    fair = leasing_gate(paused)  # type: ignore[arg-type]
    await fair.disclose(who, page(0, 1), NOTHING_HELD)
    paused.hold()
    topping = asyncio.ensure_future(fair.admit(who, 1))  # asks for 10
    await paused.ran.wait()
    assert [await fair.admit(who, 1) for _ in range(3)] == [NOTHING_HELD] * 3  # none asks again meanwhile
    paused.go.set()
    await topping
    assert (fair._leases[("l12", SCOPE)].units, await used(counters, "l12", fair.day(NOW))) == (10, (1, 10))


async def test_a_quota_raised_and_lowered_back_while_other_replicas_served_it_holds_here_from_the_next_request(
    counters: Counters,
) -> None:
    # This replica saw the client only under 100, before and after; the registry's change counter moved
    # meanwhile (raised to 1000, then lowered back), and only the other replica served it under 1000.
    low = Caller(registry_seen=1, client_id="l12", purpose="licensing", quotas={SCOPE: 100})
    high = Caller(registry_seen=2, client_id="l12", purpose="licensing", quotas={SCOPE: 1000})
    lowered = Caller(registry_seen=3, client_id="l12", purpose="licensing", quotas={SCOPE: 100})
    here, there = leasing_gate(counters), leasing_gate(counters, 0)
    assert await here.disclose(low, page(0, 1), NOTHING_HELD) is None
    await here.admit(low, 1)  # a lease of 10 under 100
    day = here.day(NOW)
    assert await there.disclose(high, page(1000, 500), NOTHING_HELD) is None  # 1 + 10 held + 500 <= 1000
    assert await used(counters, "l12", day) == (501, 10)
    refusal = await here.disclose(lowered, page(10, 5), held(await here.admit(lowered, 1)))  # 501 > 100
    assert isinstance(refusal, Refusal) and refusal.status == 429 and refusal.extensions["used"] == 501
    assert (counted(here, "lease"), await used(counters, "l12", day)) == (0, (501, 0))  # given back in the count


async def test_a_client_read_at_no_known_registry_counter_is_counted_exactly_and_leased_nothing(
    counters: Counters,
) -> None:
    unread = Caller(client_id="l13", purpose="licensing", quotas={SCOPE: 1000})  # registry_seen None
    fair = leasing_gate(counters)
    for n in range(3):
        assert await fair.disclose(unread, page(100 * n, 5), held(await fair.admit(unread, 1))) is None
    await fair.settled()
    assert (counted(fair, "exact"), counted(fair, "lease"), fair._leases) == (3, 0, {})
    assert await used(counters, "l13", fair.day(NOW)) == (15, 0)
