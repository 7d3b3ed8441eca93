"""What a client may spend: requests per second (a token bucket with a burst) and cost per minute and
per day, the settings' defaults (``[fair_use]`` in the settings file) or the client's own override in
the registry (``hub registry set-limits``, the console's client page).

A cost budget of 0 means "no budget"; the rate and burst are always positive (a client that should
send nothing is blocked, not rate-limited to zero). Windows are calendar minutes and the city's
calendar days (``utc_offset_minutes``, China Standard Time by default), so every replica and the
console agree on when a budget refills.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

MAX_RATE = 100_000.0  # requests per second: beyond it a client needs no limit at all
MAX_BURST = 1_000_000
MAX_COST = 10**15  # far beyond any real budget, well inside a Redis integer and a float's exact range
MAX_LEASE = 0.25  # a replica's lease past a quarter of a quota would leave the others too little near its end


class LimitsError(ValueError):
    """Limits that cannot be set; the message says which value and why."""


@dataclass(frozen=True, slots=True)
class ClientLimits:
    """One client's limits: ``rate`` requests per second refilling a bucket of ``burst``, and cost budgets."""

    rate: float
    burst: int
    cost_per_minute: int = 0  # 0: no budget
    cost_per_day: int = 0

    def checked(self) -> ClientLimits:
        if not 0 < self.rate <= MAX_RATE:
            raise LimitsError(f"rate must be above 0 and at most {MAX_RATE:g} requests per second (is {self.rate:g})")
        if not 1 <= self.burst <= MAX_BURST:
            raise LimitsError(f"burst must be 1-{MAX_BURST} requests (is {self.burst})")
        for name in ("cost_per_minute", "cost_per_day"):
            value = getattr(self, name)
            if not 0 <= value <= MAX_COST:
                raise LimitsError(f"{name} must be 0 (no budget) to {MAX_COST} (is {value})")
        return self

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], defaults: ClientLimits | None = None) -> ClientLimits:
        """Limits from JSON, a form or the registry; values missing from ``raw`` come from ``defaults``."""
        unknown = sorted(set(raw) - {f.name for f in fields(cls)})
        if unknown:
            raise LimitsError(f"unknown limits: {', '.join(unknown)}")
        base = defaults or DEFAULT_LIMITS
        values = {name: _number(name, value, float if name == "rate" else int) for name, value in raw.items()}
        return replace(base, **values).checked()


def _number(name: str, value: Any, kind: type) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        raise LimitsError(f"{name} must be a number (is {value!r})")
    text = value.strip() if isinstance(value, str) else value
    try:
        number = kind(text)
    except (TypeError, ValueError, OverflowError):
        wanted = "a number" if kind is float else "a whole number"
        raise LimitsError(f"{name} must be {wanted} (is {value!r})") from None
    if kind is float and number != number:  # NaN compares unequal to itself
        raise LimitsError(f"{name} must be a number (is {value!r})")
    if kind is int and isinstance(value, float) and value != number:
        raise LimitsError(f"{name} must be a whole number (is {value!r})")
    return number


DEFAULT_LIMITS = ClientLimits(rate=50.0, burst=200, cost_per_minute=5_000_000, cost_per_day=500_000_000)


@dataclass(frozen=True, slots=True)
class FairUseSettings:
    """``[fair_use]``: on or off, the limits of a client without its own, the city's day, and the share
    of a quota a replica may lease."""

    enabled: bool = True
    defaults: ClientLimits = DEFAULT_LIMITS
    utc_offset_minutes: int = 8 * 60  # China Standard Time: when a day's budget and quotas refill
    # The share of a quota each replica may hold as its lease (``hub.fairuse.gate``): what a killed
    # replica can leave over-counted for the rest of the day, per client and scope. 0: no leases.
    quota_lease: float = 0.02

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> FairUseSettings:
        raw = dict(raw)
        enabled = raw.pop("enabled", True)
        if not isinstance(enabled, bool):
            if str(enabled).lower() not in ("true", "false"):
                raise LimitsError(f"fair_use.enabled must be true or false (is {enabled!r})")
            enabled = str(enabled).lower() == "true"
        offset = _number("utc_offset_minutes", raw.pop("utc_offset_minutes", 8 * 60), int)
        if not -14 * 60 <= offset <= 14 * 60:
            raise LimitsError("fair_use.utc_offset_minutes must be within -840..840")
        lease = _number("quota_lease", raw.pop("quota_lease", 0.02), float)
        if not 0 <= lease <= MAX_LEASE:
            raise LimitsError(f"fair_use.quota_lease must be a share of a quota, 0..{MAX_LEASE:g} (is {lease:g})")
        return cls(enabled, ClientLimits.from_mapping(raw), offset, lease)
