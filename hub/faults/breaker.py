"""A circuit breaker per department: a department that keeps failing is not waited for.

Closed (normal): calls go through; ``failures`` provider-side failures or timeouts in a row open
it. Open: no call is made, the department's fields come back at once as ``SOURCE_UNAVAILABLE``
(``failedSide: provider``) instead of after the source timeout. After ``reset_seconds`` it is half
open: one call goes through as a probe (others still answer at once); its success closes the
breaker, its failure opens it for another ``reset_seconds``. Only the provider's failures count:
a hub-side error says nothing about the department.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

State = Literal["closed", "open", "half_open"]
STATE_VALUES: dict[State, int] = {"closed": 0, "half_open": 1, "open": 2}


class Breaker:
    def __init__(self, failures: int, reset_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = failures
        self._reset = reset_seconds
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> State:
        if self._opened_at is None:
            return "closed"
        return "half_open" if self._clock() >= self._opened_at + self._reset else "open"

    def allows(self) -> bool:
        """Whether a call may go to the department now (a half-open breaker lets one probe through)."""
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._probing:
            self._probing = True
            return True
        return False

    def retry_in(self) -> float:
        return 0.0 if self._opened_at is None else max(0.0, self._opened_at + self._reset - self._clock())

    def succeeded(self) -> None:
        self._failures, self._opened_at, self._probing = 0, None, False

    def failed(self) -> None:
        self._failures += 1
        if self._probing or self._failures >= self._limit:
            self._opened_at, self._probing = self._clock(), False

    def released(self) -> None:
        """The probe ended without a verdict (cancelled, or a hub-side error): let another probe."""
        self._probing = False
