"""Shared state of one generator run: the seeded random source and the reference date.

Every module draws from the one ``random.Random`` in ``Ctx`` in a fixed order, so the same seed,
size and reference date always give the same rows. Nothing here reads the clock.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from hub.identifiers.division import DEMO_COUNTIES, division_name

T = TypeVar("T")

CITY_PREFIX = "河北省唐山市"
COUNTY_NAMES: dict[str, str] = {code: (division_name(code) or "")[len(CITY_PREFIX):] for code in DEMO_COUNTIES}


def iso(day: dt.date) -> str:
    return day.isoformat()


def parse(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def add_years(day: dt.date, years: int) -> dt.date:
    """Same calendar day ``years`` later; 29 February falls back to the 28th, as registers do."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@dataclass
class Ctx:
    rng: random.Random
    as_of: dt.date

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def pick(self, options: Sequence[T]) -> T:
        return options[self.rng.randrange(len(options))]

    def weighted(self, options: Sequence[tuple[T, float]]) -> T:
        values = [value for value, _ in options]
        return self.rng.choices(values, weights=[weight for _, weight in options])[0]

    def day(self, low: dt.date, high: dt.date) -> dt.date:
        """A uniform day in [low, high]; ``high`` wins when the range is empty."""
        span = (high - low).days
        return high if span <= 0 else low + dt.timedelta(days=self.rng.randint(0, span))

    def days_ago(self, low: int, high: int) -> dt.date:
        return self.as_of - dt.timedelta(days=self.rng.randint(low, high))

    def county(self) -> str:
        return self.pick(DEMO_COUNTIES)


class WeightedPool(Generic[T]):
    """Repeated weighted picks from one population without rebuilding the weights each time."""

    def __init__(self, items: Sequence[T], weights: Sequence[float]) -> None:
        self.items = list(items)
        self.cumulative = list(itertools.accumulate(weights))

    def draw(self, ctx: Ctx) -> T:
        return ctx.rng.choices(self.items, cum_weights=self.cumulative)[0]
