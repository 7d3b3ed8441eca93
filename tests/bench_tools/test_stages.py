"""``bench.stages``: a stage's CPU time is its thread's, counted once however deep it recurses."""

from __future__ import annotations

import asyncio
import itertools
import sys
import types
from typing import Any

import pytest

from bench import stages as stages_module
from bench.stages import Stages


class Register:
    calls = 0

    def walk(self, depth: int) -> int:
        Register.calls += 1
        return depth if depth == 0 else self.walk(depth - 1)

    async def fetch(self, key: str) -> str:
        await asyncio.sleep(0)
        return key.upper()

    @classmethod
    def made(cls, value: int) -> int:
        return value * 2


@pytest.fixture
def ticking(monkeypatch: pytest.MonkeyPatch) -> None:
    """A thread clock that moves one second each time it is read: a stage spends 1 s per timing."""
    clock = itertools.count()
    monkeypatch.setattr(stages_module.time, "thread_time", lambda: float(next(clock)))


@pytest.fixture
def module(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    fake = types.ModuleType("fake_register")
    fake.Register = Register  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_register", fake)
    return fake


STAGES = (
    ("fake_register", "Register.walk", "walk"),
    ("fake_register", "Register.fetch", "fetch"),
    ("fake_register", "Register.made", "made"),
)


def test_a_recursive_stage_is_timed_once_per_outer_call_and_answers_as_before(
    ticking: None, module: types.ModuleType,
) -> None:
    stages = Stages()
    stages.install(STAGES)
    try:
        stages.counting = True
        assert Register().walk(3) == 0
        assert Register.made(4) == 8
        assert asyncio.run(Register().fetch("c")) == "C"
    finally:
        stages.restore()
    assert dict(stages.spent) == {"walk": 1.0, "made": 1.0, "fetch": 1.0}
    assert stages.lines(1, STAGES)[0].split() == ["walk", "1000.000", "ms"]


def test_nothing_is_counted_outside_the_timed_requests_and_restore_unwraps(
    ticking: None, module: types.ModuleType,
) -> None:
    original: Any = Register.__dict__["walk"]
    stages = Stages()
    stages.install(STAGES)
    Register().walk(2)
    stages.restore()
    assert not stages.spent
    assert Register.__dict__["walk"] is original
    assert isinstance(Register.__dict__["made"], classmethod)


def test_a_stage_whose_function_the_hub_no_longer_has_is_reported_not_a_failure(module: types.ModuleType) -> None:
    stages = Stages()
    stages.install((*STAGES, ("fake_register", "Register.renamed", "renamed")))
    stages.restore()
    assert stages.missing == ["renamed"]
    assert stages.lines(1, (("fake_register", "Register.renamed", "renamed"),))[0].split() == [
        "renamed", "(not", "in", "this", "hub)"]


def test_every_stage_of_the_request_path_names_a_function_the_hub_has() -> None:
    """A renamed function shows as "not in this hub" in the bench; here it fails, to be renamed too."""
    stages = Stages()
    stages.install()
    stages.restore()
    assert stages.missing == []
