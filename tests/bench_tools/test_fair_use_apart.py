"""The bench times the fair-use checks in an interpreter of its own, and reads back every figure."""

from __future__ import annotations

import pytest

from bench import fair_use
from tests.conftest import require_service


@pytest.mark.slow
@pytest.mark.redis
def test_the_fair_use_checks_are_timed_in_a_fresh_interpreter_and_every_kind_comes_back() -> None:
    require_service("Redis", "127.0.0.1", 6379)
    figures = fair_use.measured_apart()
    assert "redis_unavailable" not in figures
    kinds = {"redis_ping", "redis_check", "redis_check_and_quota", "redis_check_and_quota_past_reservation",
             "redis_check_and_quota_exact_lease_spent", "memory_check"}
    assert kinds <= figures.keys()
    assert all(figures[kind]["p50_ms"] > 0 and figures[kind]["cpu_ms"] > 0 for kind in kinds)
    assert any("redis_check:" in line for line in fair_use.lines(figures, None))
    day = figures["redis_quota_day_past_forecast"]  # a whole day's quota, spent to its first refusal
    assert day["answered"] == fair_use.DAY_QUOTA // fair_use.SUBJECTS and day["requests"] == day["answered"] + 1
    assert 1 <= day["exact"] < day["answered"] // 10
