"""The one clock the authorization server and the resource side read (tests move it)."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass
class Clock:
    offset: float = 0.0

    def now(self) -> int:
        return int(time.time() + self.offset)
