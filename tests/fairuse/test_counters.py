"""The counters' contract, on the in-process counters and on real Redis alike: exactly at each limit,
window rollover, all-or-nothing quotas, and requests racing for the last unit."""

from __future__ import annotations

import asyncio

from hub.fairuse.counters import Counters, _numbers
from hub.fairuse.wire import bulk
from hub.fairuse.limits import ClientLimits

NOW = 1_800_000_000.0  # a minute starts here (divisible by 60)
DAY = 20_833  # the day index the tests count in (any fixed one)
RATE = ClientLimits(rate=2.0, burst=3)


async def test_a_full_bucket_admits_exactly_its_burst_then_refuses_with_the_wait_for_one_token(
    counters: Counters,
) -> None:
    admitted = [await counters.admit("c1", RATE, 1, NOW, DAY) for _ in range(3)]
    assert [a.refused for a in admitted] == [None, None, None]
    assert [a.left for a in admitted] == [2, 1, 0]
    refused = await counters.admit("c1", RATE, 1, NOW, DAY)
    assert refused.refused == "rate"
    assert refused.retry_after == 0.5  # one token at 2 per second


async def test_tokens_come_back_at_the_rate_and_never_past_the_burst(counters: Counters) -> None:
    for _ in range(3):
        await counters.admit("c1", RATE, 1, NOW, DAY)
    assert (await counters.admit("c1", RATE, 1, NOW + 0.49, DAY)).refused == "rate"
    assert (await counters.admit("c1", RATE, 1, NOW + 0.5, DAY)).refused is None
    later = [await counters.admit("c1", RATE, 1, NOW + 3600, DAY) for _ in range(4)]
    assert [a.refused for a in later] == [None, None, None, "rate"]


async def test_a_refused_request_takes_no_token_and_spends_no_budget(counters: Counters) -> None:
    limits = ClientLimits(rate=1.0, burst=2, cost_per_minute=100)
    assert (await counters.admit("c1", limits, 101, NOW, DAY)).refused == "cost_per_minute"
    usage = await counters.usage("c1", limits, NOW, DAY, ())
    assert (usage.tokens, usage.cost_this_minute, usage.cost_today) == (2, 0, 0)


async def test_the_cost_budget_admits_exactly_up_to_the_limit_and_says_what_is_left(counters: Counters) -> None:
    limits = ClientLimits(rate=1000.0, burst=1000, cost_per_minute=100, cost_per_day=1000)
    assert (await counters.admit("c1", limits, 60, NOW, DAY)).refused is None
    assert (await counters.admit("c1", limits, 40, NOW + 1, DAY)).refused is None  # exactly at the limit
    refused = await counters.admit("c1", limits, 1, NOW + 2, DAY)
    assert (refused.refused, refused.left) == ("cost_per_minute", 0)


async def test_the_minute_budget_refills_at_the_next_calendar_minute_and_the_day_budget_at_the_next_day(
    counters: Counters,
) -> None:
    limits = ClientLimits(rate=1000.0, burst=1000, cost_per_minute=100, cost_per_day=150)
    assert (await counters.admit("c1", limits, 100, NOW + 59.9, DAY)).refused is None
    assert (await counters.admit("c1", limits, 10, NOW + 59.99, DAY)).refused == "cost_per_minute"
    assert (await counters.admit("c1", limits, 50, NOW + 60, DAY)).refused is None  # a new minute
    refused = await counters.admit("c1", limits, 10, NOW + 120, DAY)
    assert (refused.refused, refused.left) == ("cost_per_day", 0)
    assert (await counters.admit("c1", limits, 10, NOW + 180, DAY + 1)).refused is None  # a new day


async def test_clients_count_apart(counters: Counters) -> None:
    for _ in range(3):
        await counters.admit("c1", RATE, 1, NOW, DAY)
    assert (await counters.admit("c1", RATE, 1, NOW, DAY)).refused == "rate"
    assert (await counters.admit("c2", RATE, 1, NOW, DAY)).refused is None


async def test_a_quota_counts_distinct_subjects_and_admits_exactly_up_to_it(counters: Counters) -> None:
    assert await counters.disclose("c1", DAY, {"s": (3, {"a", "b"})}) is None
    assert await counters.disclose("c1", DAY, {"s": (3, {"a", "b", "c"})}) is None  # a and b count once
    refused = await counters.disclose("c1", DAY, {"s": (3, {"a", "d"})})
    assert refused is not None
    assert (refused.scope, refused.used, refused.asked) == ("s", 3, 1)
    assert await counters.disclose("c1", DAY, {"s": (3, {"a", "b", "c"})}) is None  # shown before: free


async def test_a_quota_is_exact_whether_or_not_the_answer_could_pass_it_were_every_subject_new(
    counters: Counters,
) -> None:
    # Room for every reference, new or not (3 used + 2 asked = the quota of 5): counted without asking
    # which are new. No such room: which are new decides, to the last one.
    assert await counters.disclose("c1", DAY, {"s": (5, {"a", "b", "c"})}) is None
    assert await counters.disclose("c1", DAY, {"s": (5, {"c", "d"})}) is None  # 3 + 2 <= 5: c counts once
    assert (await counters.usage("c1", RATE, NOW, DAY, ("s",))).subjects_today == {"s": 4}
    assert await counters.disclose("c1", DAY, {"s": (5, {"a", "b", "e"})}) is None  # 4 + 3 > 5, one new: fits
    refused = await counters.disclose("c1", DAY, {"s": (5, {"a", "f"})})  # 5 + 2 > 5, one new: does not
    assert refused is not None and (refused.scope, refused.used, refused.asked) == ("s", 5, 1)
    assert await counters.disclose("c1", DAY, {"s": (5, {"a", "b", "c", "d", "e"})}) is None  # all shown before
    assert (await counters.usage("c1", RATE, NOW, DAY, ("s",))).subjects_today == {"s": 5}


async def test_an_answer_over_one_quota_counts_nothing_under_any_scope(counters: Counters) -> None:
    await counters.disclose("c1", DAY, {"tight": (1, {"x"})})
    refused = await counters.disclose("c1", DAY, {"loose": (10, {"a", "b"}), "tight": (1, {"y"})})
    assert refused is not None and refused.scope == "tight"
    usage = await counters.usage("c1", RATE, NOW, DAY, ("loose", "tight"))
    assert usage.subjects_today == {"loose": 0, "tight": 1}


async def test_quotas_start_afresh_each_day(counters: Counters) -> None:
    assert await counters.disclose("c1", DAY, {"s": (1, {"a"})}) is None
    assert await counters.disclose("c1", DAY, {"s": (1, {"b"})}) is not None
    assert await counters.disclose("c1", DAY + 1, {"s": (1, {"b"})}) is None


async def test_twenty_requests_racing_for_the_last_three_tokens_admit_exactly_three(counters: Counters) -> None:
    limits = ClientLimits(rate=0.001, burst=10)
    for _ in range(7):
        await counters.admit("c1", limits, 1, NOW, DAY)
    raced = await asyncio.gather(*(counters.admit("c1", limits, 1, NOW, DAY) for _ in range(20)))
    assert sum(a.refused is None for a in raced) == 3


async def test_requests_racing_for_the_last_of_a_cost_budget_spend_it_exactly(counters: Counters) -> None:
    limits = ClientLimits(rate=1000.0, burst=1000, cost_per_minute=1000)
    raced = await asyncio.gather(*(counters.admit("c1", limits, 30, NOW, DAY) for _ in range(50)))
    assert sum(a.refused is None for a in raced) == 33  # 33 * 30 = 990; a 34th would pass 1000
    assert (await counters.usage("c1", limits, NOW, DAY, ())).cost_this_minute == 990


async def test_answers_racing_for_the_last_subject_of_a_quota_admit_exactly_one(counters: Counters) -> None:
    await counters.disclose("c1", DAY, {"s": (5, {"a", "b", "c", "d"})})
    raced = await asyncio.gather(*(counters.disclose("c1", DAY, {"s": (5, {f"new-{i}"})}) for i in range(12)))
    assert sum(r is None for r in raced) == 1
    assert (await counters.usage("c1", RATE, NOW, DAY, ("s",))).subjects_today == {"s": 5}


async def test_answers_racing_for_a_quota_with_room_for_each_alone_admit_exactly_as_many_as_fit(
    counters: Counters,
) -> None:
    # Each answer alone has room under the quota (nothing is asked of which subjects are new), twelve
    # together do not: one script at a time decides, so exactly five of two new subjects each fit.
    raced = await asyncio.gather(*(
        counters.disclose("c1", DAY, {"s": (10, {f"p{i}-a", f"p{i}-b"})}) for i in range(12)
    ))
    assert sum(r is None for r in raced) == 5
    assert all(r.used == 10 and r.asked == 2 for r in raced if r is not None)
    assert (await counters.usage("c1", RATE, NOW, DAY, ("s",))).subjects_today == {"s": 10}


async def test_usage_reads_the_bucket_and_the_budgets_without_spending_them(counters: Counters) -> None:
    limits = ClientLimits(rate=1.0, burst=5, cost_per_minute=100, cost_per_day=1000)
    await counters.admit("c1", limits, 7, NOW, DAY)
    await counters.admit("c1", limits, 8, NOW, DAY)
    for _ in range(2):
        usage = await counters.usage("c1", limits, NOW + 1, DAY, ())
        assert (usage.tokens, usage.cost_this_minute, usage.cost_today) == (4, 15, 15)


async def test_a_burst_lowered_since_the_bucket_filled_holds_at_once(counters: Counters) -> None:
    await counters.admit("c1", ClientLimits(rate=1.0, burst=100), 1, NOW, DAY)
    lowered = ClientLimits(rate=0.001, burst=1)
    assert (await counters.admit("c1", lowered, 1, NOW, DAY)).refused is None
    assert (await counters.admit("c1", lowered, 1, NOW, DAY)).refused == "rate"


async def test_an_answer_showing_more_subjects_than_one_script_call_takes_is_counted_exactly(
    counters: Counters,
) -> None:
    # 12,001 references: past the 5,000 a script asks or adds per call, twice over.
    refs = {f"person:{n:06d}" for n in range(12_001)}
    await counters.disclose("c1", DAY, {"s": (12_000, {"person:000000"})})
    refused = await counters.disclose("c1", DAY, {"s": (12_000, refs)})
    assert refused is not None and (refused.used, refused.asked) == (1, 12_000)
    assert await counters.disclose("c1", DAY, {"s": (12_001, refs), "t": (5_000, {"x"})}) is None
    usage = await counters.usage("c1", RATE, NOW, DAY, ("s", "t"))
    assert usage.subjects_today == {"s": 12_001, "t": 1}
    assert await counters.disclose("c1", DAY, {"s": (12_001, refs)}) is None  # all shown before: free


def test_an_admissions_own_numbers_are_encoded_as_every_other_argument_is() -> None:
    for numbers in ((NOW, 0, 30_000_000, DAY), (1_765_130_000.123456, 10**15, 29_418_835, 20_429), (0.5, 1, 0, 0)):
        assert _numbers(*numbers) == bulk(numbers)
