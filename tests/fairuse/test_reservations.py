"""A quota'd request's one round trip: room reserved at admission, the answer's count settled after it.

The counters' contract on both implementations (``counters``: in process and real Redis): what an
admission reserves is never more than is left, ``|shown| + held <= quota`` through races, a settle
releases its ticket once, a ticket never settled keeps counting until its day ends. Then the gate
(``FairUse``): an answer within its reservation goes with no count on its path (sent after it,
flushed on shutdown), one past it takes the exact count, the day rolling over in between, two gates
on one Redis racing for the last unit, and a settle lost with Redis over-counts, never under-counts.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from hub.audit.records import Pseudonyms
from hub.audit.subjects import Disclosed
from hub.context import Caller
from hub.demo.ids import uscc
from hub.identifiers.id_number import id_check_char
from hub.fairuse.counters import Counters, RedisCounters
from hub.fairuse.gate import NOTHING_HELD, FairUse, Held, Refusal
from hub.fairuse.limits import ClientLimits, FairUseSettings
from hub.fairuse.metrics import FairUseMetrics
from hub.fairuse.quotas import FieldScopes, field_scopes
from hub.policy import load_policies
from hub.settings import load_settings
from tests.fairuse.conftest import OpenFairHub
from tests.fairuse.test_edge_limits import refused, unique
from tests.fairuse.test_redis_down import Switch

NOW = 1_800_000_000.0
DAY = 20_833
OPEN = ClientLimits(rate=1000.0, burst=1000)
SCOPE = "market.enterprise:read"


# --- the counters' contract --------------------------------------------------------------------------


async def test_an_admission_reserves_what_is_asked_up_to_the_room_left_exactly(counters: Counters) -> None:
    assert await counters.disclose("c1", DAY, {"s": (5, {"a", "b", "c"})}) is None
    first = await counters.admit("c1", OPEN, 1, NOW, DAY, {"s": (5, 4)}, "t1")
    assert (first.refused, dict(first.reserved)) == (None, {"s": 2})  # 5 - 3 shown: the last two
    second = await counters.admit("c1", OPEN, 1, NOW, DAY, {"s": (5, 1)}, "t2")
    assert dict(second.reserved) == {"s": 0}  # admitted, nothing left to hold
    usage = await counters.usage("c1", OPEN, NOW, DAY, ("s",))
    assert (dict(usage.subjects_today), dict(usage.held)) == ({"s": 3}, {"s": 2})
    await counters.settle("c1", DAY, "t1", {"s": {"d", "e"}})
    usage = await counters.usage("c1", OPEN, NOW, DAY, ("s",))
    assert (dict(usage.subjects_today), dict(usage.held)) == ({"s": 5}, {"s": 0})


async def test_a_settle_releases_its_ticket_once_however_often_it_is_sent(counters: Counters) -> None:
    await counters.admit("c1", OPEN, 1, NOW, DAY, {"s": (10, 3)}, "t1")
    await counters.admit("c1", OPEN, 1, NOW, DAY, {"s": (10, 4)}, "t2")
    for _ in range(3):  # a retry, a reply lost to a dropped connection: the same settle again
        await counters.settle("c1", DAY, "t1", {"s": {"a", "b"}})
    usage = await counters.usage("c1", OPEN, NOW, DAY, ("s",))
    assert (dict(usage.subjects_today), dict(usage.held)) == ({"s": 2}, {"s": 4})  # t2 still holds its 4


async def test_one_reservation_mapping_asked_again_the_next_day_reserves_under_that_days_quota(
    counters: Counters,
) -> None:
    reserve = {"s": (5, 2)}  # one operation's forecast, handed again for each of its requests
    assert dict((await counters.admit("c1", OPEN, 1, NOW, DAY, reserve, "t1")).reserved) == {"s": 2}
    assert dict((await counters.admit("c1", OPEN, 1, NOW + 86_400, DAY + 1, reserve, "t2")).reserved) == {"s": 2}
    assert dict((await counters.admit("c1", OPEN, 1, NOW + 86_400, DAY + 1, reserve, "t3")).reserved) == {"s": 2}
    assert dict((await counters.admit("c1", OPEN, 1, NOW + 86_400, DAY + 1, reserve, "t4")).reserved) == {"s": 1}
    assert dict((await counters.usage("c1", OPEN, NOW, DAY + 1, ("s",))).held) == {"s": 5}  # that day's 5
    with pytest.raises(ValueError, match="ticket"):
        await counters.admit("c1", OPEN, 1, NOW, DAY + 1, reserve, "")  # the ticket checked every time


async def test_a_reservation_never_settled_counts_as_used_until_its_day_ends(counters: Counters) -> None:
    await counters.admit("c1", OPEN, 1, NOW, DAY, {"s": (5, 4)}, "killed")  # its replica never answers
    refused = await counters.disclose("c1", DAY, {"s": (5, {"a", "b"})})
    assert refused is not None and (refused.used, refused.asked, refused.held) == (0, 2, 4)
    assert await counters.disclose("c1", DAY, {"s": (5, {"a"})}) is None  # 0 + 4 + 1: exactly at the quota
    later = await counters.admit("c1", OPEN, 1, NOW + 86_400, DAY + 1, {"s": (5, 5)}, "next")
    assert dict(later.reserved) == {"s": 5}  # a new day: nothing held, nothing shown


async def test_the_exact_count_releases_its_own_ticket_whether_it_counts_or_refuses(counters: Counters) -> None:
    await counters.admit("c1", OPEN, 1, NOW, DAY, {"s": (3, 2)}, "mine")
    assert await counters.disclose("c1", DAY, {"s": (3, {"a", "b", "c"})}, "mine") is None  # its own 2 not held against it
    usage = await counters.usage("c1", OPEN, NOW, DAY, ("s",))
    assert (dict(usage.subjects_today), dict(usage.held)) == ({"s": 3}, {"s": 0})
    await counters.admit("c1", OPEN, 1, NOW, DAY, {"t": (3, 2), "u": (9, 1)}, "t1")
    await counters.admit("c1", OPEN, 1, NOW, DAY, {"t": (3, 1)}, "t2")
    refused = await counters.disclose("c1", DAY, {"t": (3, {"x", "y", "z"}), "u": (9, ())}, "t1")
    assert refused is not None and (refused.scope, refused.used, refused.asked, refused.held) == ("t", 0, 3, 1)
    usage = await counters.usage("c1", OPEN, NOW, DAY, ("t", "u"))
    assert (dict(usage.subjects_today), dict(usage.held)) == ({"t": 0, "u": 0}, {"t": 1, "u": 0})


async def test_a_refused_admission_reserves_nothing(counters: Counters) -> None:
    limits = ClientLimits(rate=0.001, burst=1)
    assert dict((await counters.admit("c1", limits, 1, NOW, DAY, {"s": (10, 3)}, "t1")).reserved) == {"s": 3}
    refused = await counters.admit("c1", limits, 1, NOW, DAY, {"s": (10, 3)}, "t2")
    assert (refused.refused, dict(refused.reserved)) == ("rate", {})
    assert dict((await counters.usage("c1", limits, NOW, DAY, ("s",))).held) == {"s": 3}


async def test_reservations_racing_for_the_last_units_are_granted_no_more_than_is_left(counters: Counters) -> None:
    await counters.disclose("c1", DAY, {"s": (10, {"a", "b", "c", "d"})})
    raced = await asyncio.gather(*(
        counters.admit("c1", OPEN, 1, NOW, DAY, {"s": (10, 1 + i % 3)}, f"t{i}") for i in range(20)
    ))
    assert sum(a.reserved["s"] for a in raced) == 6
    assert dict((await counters.usage("c1", OPEN, NOW, DAY, ("s",))).held) == {"s": 6}


@pytest.mark.parametrize(("reserve", "ticket"), [
    ({"s": (5, 1)}, ""),
    ({"s": (5, 1)}, "a*b"),
    ({"s": (5, 1)}, "x" * 65),
    ({"s": (0, 1)}, "t"),
    ({"s": (5, -1)}, "t"),
    ({"s": (5, True)}, "t"),
    ({"s": (5, 1.5)}, "t"),
    ({"s": ("5", 1)}, "t"),
])
async def test_a_reservation_with_no_ticket_or_not_whole_numbers_is_refused_before_anything_is_counted(
    counters: Counters, reserve: Any, ticket: str
) -> None:
    with pytest.raises(ValueError, match="reservation"):
        await counters.admit("c1", OPEN, 1, NOW, DAY, reserve, ticket)
    usage = await counters.usage("c1", OPEN, NOW, DAY, ("s",))
    assert (usage.tokens, dict(usage.held)) == (1000, {"s": 0})


async def test_a_settle_without_its_ticket_is_refused(counters: Counters) -> None:
    with pytest.raises(ValueError, match="ticket"):
        await counters.settle("c1", DAY, "", {"s": {"a"}})


@pytest.mark.redis
async def test_a_days_reservations_expire_with_the_days_keys_whoever_made_them(redis_url: str, redis_prefix: str) -> None:
    import redis.asyncio

    counters, direct = RedisCounters(redis_url, prefix=redis_prefix), redis.asyncio.Redis.from_url(redis_url)
    key = f"{redis_prefix}{{c1}}:r:{DAY}:s"
    try:
        await counters.admit("c1", OPEN, 1, NOW, DAY, {"s": (10, 2)}, "t1")  # makes the hash
        await direct.expire(key, 100)
        await counters.admit("c1", OPEN, 1, NOW, DAY, {"s": (10, 3)}, "t2")  # adds to it
        assert 0 < await direct.ttl(key) <= 100  # a reservation added to a day's hash leaves its ttl
        await counters.settle("c1", DAY, "t1", {"s": ()})
        await counters.settle("c1", DAY, "t2", {"s": ()})
        assert await direct.hgetall(key) == {b"*": b"0"}  # nothing held: the sum kept, at 0
        await direct.delete(key)  # as when it expired
        await counters.admit("c1", OPEN, 1, NOW, DAY, {"s": (10, 1)}, "t3")  # made again
        assert 86_400 < await direct.ttl(key) <= 2 * 86_400
        assert await direct.hgetall(key) == {b"*": b"1", b"t3": b"1"}
    finally:
        await counters.aclose()
        await direct.aclose()


# --- the gate ----------------------------------------------------------------------------------------


@functools.cache
def _scopes() -> FieldScopes:
    from schema import build_schema

    return field_scopes(load_policies(load_settings(environment="development").policies_dir, build_schema()._schema))


class Spied:
    """Counters that note which of their calls a request made."""

    def __init__(self, inner: Counters) -> None:
        self.inner, self.calls = inner, []

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.inner, name)
        if name in ("admit", "disclose", "settle"):
            async def noted(*args: Any, **kwargs: Any) -> Any:
                self.calls.append(name)
                return await found(*args, **kwargs)

            return noted
        return found


def gate(counters: Any, clock: float = NOW) -> FairUse:
    pseudonyms = Pseudonyms(b"test-reservations-pseudonym-key!!")

    async def keyed() -> Pseudonyms:
        return pseudonyms

    found = FairUse(FairUseSettings(defaults=OPEN), counters, FairUseMetrics(CollectorRegistry()), _scopes(), keyed)
    found.clock = lambda: clock
    return found


def page(first: int, n: int) -> Disclosed:
    """A page of ``n`` enterprises, numbered from ``first``, shown under the quota'd scope."""
    disclosed = Disclosed()
    fields = disclosed.field_set({"Enterprise.uscc": "allow", "Enterprise.name": "allow"})
    for i in range(first, first + n):
        disclosed.add(("enterprise", uscc("91", "130203", f"{i:09d}")), fields)
    return disclosed


def caller(client: str, quota: int) -> Caller:
    return Caller(client_id=client, purpose="licensing", quotas={SCOPE: quota})


def day_of(fair: FairUse) -> int:
    return fair.day(fair.clock())


async def used(counters: Counters, client: str, day: int) -> tuple[int, int]:
    usage = await counters.usage(client, OPEN, NOW, day, (SCOPE,))
    return usage.subjects_today[SCOPE], usage.held[SCOPE]


def held(admitted: Refusal | Held) -> Held:
    assert isinstance(admitted, Held), admitted
    return admitted


async def test_an_answer_within_its_reservation_goes_with_no_count_on_its_path_and_is_counted_after_it(
    counters: Counters,
) -> None:
    spied = Spied(counters)
    fair, who = gate(spied), caller("g1", 10)
    reserved = held(await fair.admit(who, 5, {"Enterprise": 3, "EnterpriseEdge": 3}))
    assert dict(reserved.reserved) == {SCOPE: 3}
    assert await fair.disclose(who, page(0, 3), reserved) is None
    assert spied.calls == ["admit"]  # the answer may go: nothing awaited after the admission
    await fair.settled()
    assert spied.calls == ["admit", "settle"]
    assert await used(counters, "g1", day_of(fair)) == (3, 0)
    assert fair.metrics.counts.labels("reserved")._value.get() == 1


async def test_an_answer_showing_fewer_or_none_releases_the_rest_of_its_reservation(counters: Counters) -> None:
    fair, who = gate(counters), caller("g1", 10)
    assert await fair.disclose(who, page(0, 1), held(await fair.admit(who, 5, {"Enterprise": 4}))) is None
    assert await fair.disclose(who, Disclosed(), held(await fair.admit(who, 5, {"Enterprise": 4}))) is None
    fair.release(who, held(await fair.admit(who, 5, {"Enterprise": 4})))  # ran out of time: showed nothing
    await fair.settled()
    assert await used(counters, "g1", day_of(fair)) == (1, 0)


async def test_an_answer_past_its_reservation_takes_the_exact_count_all_or_nothing(counters: Counters) -> None:
    spied = Spied(counters)
    fair, who = gate(spied), caller("g1", 4)
    forecast_one = held(await fair.admit(who, 5, {"Enterprise": 1}))
    assert await fair.disclose(who, page(0, 3), forecast_one) is None  # 3 > 1 held: counted exactly, fits
    assert spied.calls == ["admit", "disclose"]
    assert fair.metrics.counts.labels("exact")._value.get() == 1
    assert await used(counters, "g1", day_of(fair)) == (3, 0)
    room_one = held(await fair.admit(who, 5, {"Enterprise": 3}))
    assert dict(room_one.reserved) == {SCOPE: 1}  # all that is left
    refusal = await fair.disclose(who, page(10, 2), room_one)
    assert refusal is not None and refusal.status == 429
    assert (refusal.extensions["used"], refusal.extensions["asked"]) == (3, 2)
    assert "held" not in refusal.extensions
    assert await used(counters, "g1", day_of(fair)) == (3, 0)  # refused whole, its reservation released


async def test_a_caller_with_no_forecast_or_no_room_is_counted_exactly_as_before(counters: Counters) -> None:
    spied = Spied(counters)
    fair, who = gate(spied), caller("g1", 2)
    for forecast in (None, {}, {"ServiceMatter": 5}, {"Enterprise": 0}, {"Enterprise": -3}, {"Nothing": 1}):
        assert await fair.admit(who, 1, forecast) is NOTHING_HELD
    assert await fair.disclose(who, page(0, 2), NOTHING_HELD) is None
    nothing_left = await fair.admit(who, 1, {"Enterprise": 10**9})
    assert nothing_left is NOTHING_HELD  # the quota is used up: nothing to hold, nothing held
    refusal = await fair.disclose(who, page(5, 1), NOTHING_HELD)
    assert refusal is not None and refusal.extensions["used"] == 2
    assert spied.calls.count("disclose") == 2 and "settle" not in spied.calls


async def test_a_forecast_past_the_quota_reserves_no_more_than_the_quota(counters: Counters) -> None:
    fair, who = gate(counters), caller("g1", 7)
    assert fair.forecast(who, {"Enterprise": 10**12, "TaxRegistration": 5}) == {SCOPE: (7, 7)}
    assert dict(held(await fair.admit(who, 1, {"Enterprise": 10**12})).reserved) == {SCOPE: 7}


async def test_one_operations_forecast_follows_the_callers_quota_as_it_is_now(counters: Counters) -> None:
    fair, measure = gate(counters), {"Enterprise": 5, "EnterpriseEdge": 5}  # one document's measure, kept
    assert dict(held(await fair.admit(caller("g1", 10), 1, measure)).reserved) == {SCOPE: 5}
    lowered = held(await fair.admit(caller("g1", 7), 1, measure))  # the grant's quota lowered to 7
    assert dict(lowered.reserved) == {SCOPE: 2}  # 7 less the 5 the first request holds
    assert fair.forecast(caller("g1", 3), measure) == {SCOPE: (3, 3)}
    assert dict(held(await fair.admit(caller("g2", 3), 1, measure)).reserved) == {SCOPE: 3}


async def test_a_request_admitted_before_midnight_and_answered_after_is_counted_exactly_on_the_new_day(
    counters: Counters,
) -> None:
    fair, who = gate(counters), caller("g1", 3)
    evening = fair.day_ends(day_of(fair)) - 0.5
    fair.clock = lambda: evening
    yesterday = held(await fair.admit(who, 1, {"Enterprise": 3}))
    fair.clock = lambda: evening + 1  # the next day began while it ran
    assert await fair.disclose(who, page(0, 3), NOTHING_HELD) is None
    refusal = await fair.disclose(who, page(10, 1), yesterday)
    assert refusal is not None and refusal.extensions["used"] == 3  # today's quota, counted on the path
    await fair.settled()
    assert await used(counters, "g1", yesterday.day) == (0, 0)  # yesterday's hold released, nothing added
    assert await used(counters, "g1", yesterday.day + 1) == (3, 0)


async def test_near_the_end_of_a_quota_room_held_by_a_running_request_refuses_with_a_retry_in_a_second(
    counters: Counters,
) -> None:
    fair, who = gate(counters), caller("g1", 3)
    running = held(await fair.admit(who, 1, {"Enterprise": 2}))
    late = held(await fair.admit(who, 1, {"Enterprise": 1}))
    refusal = await fair.disclose(who, page(0, 2), late)  # past its 1: exact, and 2 of 3 are held
    assert refusal is not None
    assert (refusal.extensions["used"], refusal.extensions["asked"], refusal.extensions["held"]) == (0, 2, 2)
    assert refusal.headers["Retry-After"] == "1"
    assert "still running" in refusal.message
    assert await fair.disclose(who, page(10, 2), running) is None
    await fair.settled()
    assert await used(counters, "g1", day_of(fair)) == (2, 0)


IDENTITY = "security.identity:read"


def person_id(n: int) -> str:
    first17 = f"13020319600101{n:03d}"
    return first17 + id_check_char(first17)


def identity_check(n: int) -> Disclosed:
    """One person's identity checked: shown under ``IDENTITY`` (``status``'s own scope)."""
    disclosed = Disclosed()
    fields = disclosed.field_set({"IdentityVerification.found": "allow", "IdentityVerification.status": "allow"})
    disclosed.add(("person", person_id(n)), fields)
    return disclosed


async def test_an_answer_within_its_reservation_has_its_subjects_worked_out_after_it_went(
    counters: Counters,
) -> None:
    pseudonyms, asked = Pseudonyms(b"test-reservations-pseudonym-key!!"), []

    async def keyed() -> Pseudonyms:
        asked.append("keyed hash")
        return pseudonyms

    fair = FairUse(FairUseSettings(defaults=OPEN), counters, FairUseMetrics(CollectorRegistry()), _scopes(), keyed)
    fair.clock = lambda: NOW
    who = Caller(client_id="p1", purpose="identity_check", quotas={IDENTITY: 1})
    reserved = held(await fair.admit(who, 1, {"IdentityVerification": 1, "Person": 1}))
    assert dict(reserved.reserved) == {IDENTITY: 1}
    assert await fair.disclose(who, identity_check(7), reserved) is None
    assert asked == []  # no subject, no keyed hash worked out on the request's path
    await fair.settled()
    assert asked == ["keyed hash"]
    usage = await counters.usage("p1", OPEN, NOW, day_of(fair), (IDENTITY,))
    assert (usage.subjects_today[IDENTITY], usage.held[IDENTITY]) == (1, 0)
    assert await fair.disclose(who, identity_check(7), NOTHING_HELD) is None  # the same person: counted once
    refusal = await fair.disclose(who, identity_check(8), NOTHING_HELD)
    assert refusal is not None and refusal.extensions["used"] == 1  # by the keyed hash the count after it added


async def test_a_count_that_fails_after_its_answer_is_logged_and_its_reservation_stays_held(
    counters: Counters, caplog: pytest.LogCaptureFixture,
) -> None:
    async def unreadable() -> Pseudonyms:
        raise RuntimeError("the subject key could not be read")

    fair = FairUse(FairUseSettings(defaults=OPEN), counters, FairUseMetrics(CollectorRegistry()), _scopes(), unreadable)
    fair.clock = lambda: NOW
    who = caller("g1", 10)
    reserved = held(await fair.admit(who, 1, {"Enterprise": 3}))
    with caplog.at_level(logging.ERROR, logger="hub.fairuse"):
        assert await fair.disclose(who, page(0, 2), reserved) is None  # the answer went
        await fair.settled()
    assert fair.metrics.unsettled._value.get() == 1
    assert "keeps counting as used" in caplog.text and "the subject key could not be read" in caplog.text
    assert await used(counters, "g1", day_of(fair)) == (0, 3)  # the 2 shown within the 3 still held
    later = gate(counters)
    refusal = await later.disclose(who, page(10, 8), NOTHING_HELD)  # 0 + 3 held + 8 > 10: never under-counted
    assert refusal is not None and refusal.extensions["held"] == 3


async def test_an_answer_with_more_subjects_than_held_the_rest_under_no_quota_still_goes_within_it(
    counters: Counters,
) -> None:
    spied = Spied(counters)
    fair, who = gate(spied), caller("g1", 10)
    reserved = held(await fair.admit(who, 1, {"Enterprise": 2}))
    disclosed = page(0, 2)
    persons = disclosed.field_set({"Person.id_type": "allow"})  # market.person:read: no quota on it
    for n in range(3):
        disclosed.add(("person", person_id(n)), persons)
    assert await fair.disclose(who, disclosed, reserved) is None
    assert spied.calls == ["admit"]
    await fair.settled()
    assert spied.calls == ["admit", "settle"]
    assert await used(counters, "g1", day_of(fair)) == (2, 0)


async def test_an_answer_shown_under_a_quota_its_admission_held_nothing_under_is_counted_exactly(
    counters: Counters,
) -> None:
    spied = Spied(counters)
    fair = gate(spied)
    who = Caller(client_id="g2", purpose="licensing", quotas={SCOPE: 10, "market.person:read": 10})
    reserved = held(await fair.admit(who, 1, {"Enterprise": 5}))
    assert dict(reserved.reserved) == {SCOPE: 5}
    disclosed = page(0, 2)
    disclosed.add(("person", person_id(1)), disclosed.field_set({"Person.id_type": "mask"}))
    assert await fair.disclose(who, disclosed, reserved) is None
    assert spied.calls == ["admit", "disclose"]  # on the path: nothing was held under the person's scope
    usage = await counters.usage("g2", OPEN, NOW, day_of(fair), (SCOPE, "market.person:read"))
    assert dict(usage.subjects_today) == {SCOPE: 2, "market.person:read": 1}
    assert dict(usage.held) == {SCOPE: 0, "market.person:read": 0}


async def test_shutdown_flushes_the_counts_sent_after_answers(counters: Counters) -> None:
    fair, who = gate(counters), caller("g1", 100)
    for n in range(5):
        assert await fair.disclose(who, page(n * 10, 3), held(await fair.admit(who, 1, {"Enterprise": 3}))) is None
    assert fair._unsent or fair._settles  # sent, not yet answered
    closed = counters.aclose
    seen: list[tuple[int, int]] = []

    async def read_then_close() -> None:
        seen.append(await used(counters, "g1", day_of(fair)))
        await closed()

    counters.aclose = read_then_close  # type: ignore[method-assign]
    await fair.aclose()
    assert seen == [(15, 0)]


# --- two gates on one Redis; Redis lost after the answer --------------------------------------------


@pytest.mark.redis
async def test_two_gates_on_one_redis_racing_for_the_last_unit_show_it_once(redis_url: str, redis_prefix: str) -> None:
    one, two = RedisCounters(redis_url, prefix=redis_prefix), RedisCounters(redis_url, prefix=redis_prefix)
    try:
        gates, who = (gate(one), gate(two)), caller("race", 5)
        assert await gates[0].disclose(who, page(0, 4), NOTHING_HELD) is None

        async def request(n: int) -> Refusal | None:
            fair = gates[n % 2]  # interleaved across the two
            admitted = held(await fair.admit(who, 1, {"Enterprise": 1}))
            await asyncio.sleep(0.001 * (n % 3))  # "executing", overlapping the others
            return await fair.disclose(who, page(100 + n, 1), admitted)

        outcomes = await asyncio.gather(*(request(n) for n in range(12)))
        await asyncio.gather(*(fair.settled() for fair in gates))
        assert sum(outcome is None for outcome in outcomes) == 1
        assert await used(one, "race", day_of(gates[0])) == (5, 0)
        assert sum(fair.metrics.counts.labels("reserved")._value.get() for fair in gates) == 1  # the one holder
    finally:
        await one.aclose()
        await two.aclose()


@asynccontextmanager
async def behind_switch(redis_url: str, prefix: str) -> AsyncIterator[tuple[RedisCounters, Switch]]:
    switch = Switch(int(redis_url.rsplit(":", 1)[1].split("/")[0]))
    await switch.start()
    counters = RedisCounters(f"redis://127.0.0.1:{switch.port}/0", prefix=prefix, timeout=0.5)
    try:
        yield counters, switch
    finally:
        await counters.aclose()
        await switch.stop()


@pytest.mark.redis
async def test_redis_lost_after_an_answer_within_its_reservation_over_counts_never_under_counts(
    redis_url: str, redis_prefix: str
) -> None:
    direct = RedisCounters(redis_url, prefix=redis_prefix)
    try:
        async with behind_switch(redis_url, redis_prefix) as (counters, switch):
            fair, who = gate(counters), caller("lost", 5)
            admitted = held(await fair.admit(who, 1, {"Enterprise": 3}))
            switch.off()  # the answer may go; its count, sent after it, finds Redis gone
            assert await fair.disclose(who, page(0, 2), admitted) is None
            await fair.settled()
            assert fair.metrics.unsettled._value.get() == 1
        day = day_of(fair)
        assert await used(direct, "lost", day) == (0, 3)  # the 2 shown stay counted, within the 3 held
        later = gate(direct)
        refusal = await later.disclose(who, page(10, 3), NOTHING_HELD)  # 0 + 3 held + 3 > 5
        assert refusal is not None and refusal.extensions["held"] == 3
        assert await later.disclose(who, page(10, 2), NOTHING_HELD) is None  # exactly at the quota
        assert await used(direct, "lost", day) == (2, 3)
    finally:
        await direct.aclose()


# --- at the edge -------------------------------------------------------------------------------------

PAGE = "query($n: Int!) { enterprises(first: $n) { edges { node { uscc name } } } }"


async def test_at_the_edge_a_page_within_its_reservation_is_counted_after_its_answer_one_past_it_exactly(
    fair_hub: OpenFairHub,
) -> None:
    async with fair_hub() as hub:
        client = hub.client(unique(), quotas={SCOPE: 5})

        def counted(path: str) -> float:
            return hub.hub.metrics.value("hub_fair_use_quota_counts_total", path=path)

        assert (await hub.send(client, PAGE, {"n": 3})).status_code == 200  # 3 forecast by `first`, 3 shown
        assert (counted("reserved"), counted("exact")) == (1, 0)
        await hub.hub.fair_use.settled()
        error = refused(await hub.send(client, PAGE, {"n": 6}), 429, "FORBIDDEN")  # 2 left to hold, 6 shown
        assert (error["extensions"]["used"], error["extensions"]["asked"]) == (3, 3)
        assert (await hub.send(client, PAGE, {"n": 5})).status_code == 200  # 2 held, 5 shown of which 2 new
        assert (counted("reserved"), counted("exact")) == (1, 2)
        usage = await hub.hub.fair_use.usage(client, hub.hub.fair_use.settings.defaults, {SCOPE: 5})
        assert usage is not None and (usage.subjects_today[SCOPE], usage.held[SCOPE]) == (5, 0)


def test_an_operation_is_measured_for_the_objects_per_type_its_answer_can_hold() -> None:
    from hub.graphql.documents import DocumentCache
    from schema import build_schema

    documents = DocumentCache(build_schema()._schema, max_page_size=100)

    def objects(query: str, variables: dict[str, Any] | None = None) -> dict[str, int]:
        document = documents.get(query)
        assert not document.errors, document.errors
        return dict(documents.judged(document, None, variables)[1])

    page = objects("query($n: Int!) { enterprises(first: $n) { edges { node { uscc legalRepresentative { name } } } } }",
                   {"n": 7})
    assert (page["Enterprise"], page["Person"]) == (7, 7)
    assert objects("{ enterprises(first: 5000) { edges { node { uscc } } } }")["Enterprise"] == 100  # capped
    kinds = objects("{ licences(first: 5) { edges { node { number ... on FoodBusinessLicence { number } } } } }")
    assert {kinds[k] for k in ("FoodBusinessLicence", "ConstructionPermit", "PollutantDischargePermit")} == {5}
    unpaged = objects('{ enterprise(uscc: "x") { uscc foodLicences { number } } }')
    assert (unpaged["Enterprise"], unpaged["FoodBusinessLicence"]) == (1, 20)  # default_list_size: a forecast
    assert objects("{ serviceMatters { code } }") == {"ServiceMatter": 20}
    assert objects("{ __typename }") == {}


@pytest.mark.redis
async def test_the_hub_closing_flushes_the_counts_sent_after_its_last_answers(
    fair_hub: OpenFairHub, redis_url: str, redis_prefix: str
) -> None:
    counters = RedisCounters(redis_url, prefix=redis_prefix)
    settle = counters.settle
    finished: list[str] = []

    async def slow_settle(*args: Any, **kwargs: Any) -> None:
        await asyncio.sleep(0.3)  # still on its way when the hub is told to close
        await settle(*args, **kwargs)
        finished.append("settled")

    counters.settle = slow_settle  # type: ignore[method-assign]
    async with fair_hub(fair_use_url=redis_url) as hub:
        await hub.hub.fair_use.counters.aclose()
        hub.hub.fair_use.counters = counters
        client = hub.client(unique(), quotas={SCOPE: 10})
        for n in (2, 3):
            assert (await hub.send(client, PAGE, {"n": n})).status_code == 200
        assert finished == []  # the answers went; their counts had not arrived
        day = hub.hub.fair_use.day(hub.now)
    assert finished == ["settled", "settled"]  # Hub.aclose waited for both before closing the counters
    direct = RedisCounters(redis_url, prefix=redis_prefix)
    try:
        assert await used(direct, client, day) == (3, 0)
    finally:
        await direct.aclose()
