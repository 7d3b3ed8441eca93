"""The fair-use counters: one small protocol, two implementations with one contract test.

``RedisCounters`` (every replica shares one Redis) makes each decision in one Lua script, so a check
and its count are atomic across replicas: two requests racing for a client's last token, the last
of a cost budget or the last subject of a quota cannot both win, and nothing is counted for a
request that is refused. ``MemoryCounters`` does the same in one process (the development demo, a
single-process hub, and the fallback a replica uses for rate limits while Redis is unreachable).

- ``admit``: a token bucket (``rate`` per second up to ``burst``) and two fixed-window cost budgets
  (the calendar minute, the city's day); refused on the first that does not hold, counting nothing.
- ``disclose``: per scope, a set of the subjects shown today; the request's new subjects are added
  only if every scope stays within its quota (all or nothing).

Keys carry the client id in braces (``hub:fair:{client}:...``): one client's keys stay in one slot
of a Redis Cluster, where a script may only touch keys of one slot.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hub.fairuse.limits import ClientLimits
from hub.faults import DependencyUnavailable, Outage

DAY = 86_400
MINUTE = 60
DOWN_FOR = 1.0  # seconds a replica skips Redis after a failure, so an outage costs no timeout per request
QUOTA_UNAVAILABLE = "QUOTA_UNAVAILABLE"
COUNTERS = Outage(QUOTA_UNAVAILABLE, "fair-use counters (Redis)")


class CountersUnavailable(DependencyUnavailable):
    """The shared counters could not be reached or did not answer in time (``HUB_REDIS_TIMEOUT``)."""

    def __init__(self, detail: str) -> None:
        super().__init__(COUNTERS)
        self.detail = detail

    def __str__(self) -> str:
        return self.detail


@dataclass(frozen=True, slots=True)
class Admission:
    """``refused``: None (admitted), ``rate``, ``cost_per_minute`` or ``cost_per_day``; ``left``:
    tokens after this request (admitted) or the cost left in the refusing window; ``retry_after``:
    seconds until a token is back (rate)."""

    refused: str | None
    left: float = 0.0
    retry_after: float = 0.0


@dataclass(frozen=True, slots=True)
class QuotaRefusal:
    scope: str
    used: int  # distinct subjects shown today under the scope
    asked: int  # new subjects this request would have added


@dataclass(frozen=True, slots=True)
class Usage:
    """A client's consumption as read now (the console's usage view)."""

    tokens: float
    cost_this_minute: int
    cost_today: int
    subjects_today: Mapping[str, int] = field(default_factory=dict)  # scope -> distinct subjects


class Counters(Protocol):
    async def admit(self, client: str, limits: ClientLimits, cost: int, now: float, day: int) -> Admission: ...

    async def disclose(
        self, client: str, day: int, counted: Mapping[str, tuple[int, Collection[str]]]
    ) -> QuotaRefusal | None:
        """``counted``: scope -> (its quota, the references of the subjects shown under it)."""
        ...

    async def usage(
        self, client: str, limits: ClientLimits, now: float, day: int, scopes: Collection[str]
    ) -> Usage: ...

    async def aclose(self) -> None: ...


def _refill(tokens: float, at: float, now: float, limits: ClientLimits) -> float:
    """Never past the burst, even one lowered since the bucket was last filled."""
    return min(float(limits.burst), tokens + max(0.0, now - at) * limits.rate)


@dataclass
class _Window:
    index: int = -1
    value: int = 0

    def at(self, index: int) -> int:
        return self.value if self.index == index else 0


class MemoryCounters:
    """In-process; the same decisions as the script, for one process."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, at)
        self._minutes: dict[str, _Window] = {}
        self._days: dict[str, _Window] = {}
        self._subjects: dict[tuple[str, str], tuple[int, set[str]]] = {}  # (client, scope) -> (day, refs)

    async def admit(self, client: str, limits: ClientLimits, cost: int, now: float, day: int) -> Admission:
        tokens, at = self._buckets.get(client, (float(limits.burst), now))
        tokens = _refill(tokens, at, now, limits)
        if tokens < 1:
            return Admission("rate", tokens, (1 - tokens) / limits.rate)
        minute = self._minutes.setdefault(client, _Window())
        spent_day = self._days.setdefault(client, _Window())
        refused = _over_budget(limits, cost, minute.at(int(now // MINUTE)), spent_day.at(day))
        if refused is not None:
            return refused
        self._buckets[client] = (tokens - 1, max(now, at))
        for window, index in ((minute, int(now // MINUTE)), (spent_day, day)):
            window.value, window.index = window.at(index) + cost, index
        return Admission(None, tokens - 1)

    async def disclose(
        self, client: str, day: int, counted: Mapping[str, tuple[int, Collection[str]]]
    ) -> QuotaRefusal | None:
        fresh: dict[str, set[str]] = {}
        for scope, (quota, refs) in counted.items():
            seen = self._seen(client, scope, day)
            fresh[scope] = set(refs) - seen
            if len(seen) + len(fresh[scope]) > quota:
                return QuotaRefusal(scope, len(seen), len(fresh[scope]))
        for scope, refs in fresh.items():
            self._seen(client, scope, day).update(refs)
        return None

    def _seen(self, client: str, scope: str, day: int) -> set[str]:
        found = self._subjects.get((client, scope))
        if found is None or found[0] != day:
            found = self._subjects[(client, scope)] = (day, set())
        return found[1]

    async def usage(
        self, client: str, limits: ClientLimits, now: float, day: int, scopes: Collection[str]
    ) -> Usage:
        tokens, at = self._buckets.get(client, (float(limits.burst), now))
        minute, spent_day = self._minutes.get(client, _Window()), self._days.get(client, _Window())
        return Usage(
            _refill(tokens, at, now, limits), minute.at(int(now // MINUTE)), spent_day.at(day),
            {scope: len(self._seen(client, scope, day)) for scope in scopes},
        )

    async def aclose(self) -> None:
        self._buckets.clear()


def _over_budget(limits: ClientLimits, cost: int, minute: int, day: int) -> Admission | None:
    if limits.cost_per_minute and minute + cost > limits.cost_per_minute:
        return Admission("cost_per_minute", max(0, limits.cost_per_minute - minute))
    if limits.cost_per_day and day + cost > limits.cost_per_day:
        return Admission("cost_per_day", max(0, limits.cost_per_day - day))
    return None


# KEYS: bucket, this minute's cost, this day's cost.
# ARGV: now (s), rate, burst, cost, cost_per_minute, cost_per_day, minute key ttl, day key ttl.
_ADMIT = """
local now, rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local cost, per_minute, per_day = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]) or burst, tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
if tokens < 1 then return {'rate', tostring(tokens), tostring((1 - tokens) / rate)} end
local minute = tonumber(redis.call('GET', KEYS[2]) or '0')
if per_minute > 0 and minute + cost > per_minute then
  return {'cost_per_minute', tostring(math.max(0, per_minute - minute)), '0'}
end
local day = tonumber(redis.call('GET', KEYS[3]) or '0')
if per_day > 0 and day + cost > per_day then return {'cost_per_day', tostring(math.max(0, per_day - day)), '0'} end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - 1), 'at', tostring(math.max(now, at)))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 60000)
redis.call('INCRBY', KEYS[2], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[7])
redis.call('INCRBY', KEYS[3], ARGV[4])
redis.call('EXPIRE', KEYS[3], ARGV[8])
return {'', tostring(tokens - 1), '0'}
"""

# KEYS: one set of today's subjects per scope. ARGV: ttl, then per key: quota, n, n references.
_DISCLOSE = """
local i, fresh = 2, {}
for k = 1, #KEYS do
  local quota, n, new = tonumber(ARGV[i]), tonumber(ARGV[i + 1]), {}
  for j = i + 2, i + 1 + n do
    if redis.call('SISMEMBER', KEYS[k], ARGV[j]) == 0 then new[#new + 1] = ARGV[j] end
  end
  local used = redis.call('SCARD', KEYS[k])
  if used + #new > quota then return {k, used, #new} end
  fresh[k], i = new, i + 2 + n
end
for k = 1, #KEYS do
  local new = fresh[k]
  for s = 1, #new, 5000 do redis.call('SADD', KEYS[k], unpack(new, s, math.min(s + 4999, #new))) end
  if #new > 0 then redis.call('EXPIRE', KEYS[k], ARGV[1]) end
end
return {0, 0, 0}
"""


class RedisCounters:
    """Shared by every replica (``HUB_FAIR_USE_URL``, by default the replay cache's Redis)."""

    def __init__(self, url: str, *, prefix: str = "hub:fair:", timeout: float = 1.0) -> None:
        self._redis = Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._prefix = prefix
        self._admit = self._redis.register_script(_ADMIT)
        self._disclose = self._redis.register_script(_DISCLOSE)
        self._down_until = 0.0

    def _key(self, client: str, *parts: object) -> str:
        return f"{self._prefix}{{{client}}}:" + ":".join(str(p) for p in parts)

    async def _call(self, script: object, keys: list[str], args: list[object]) -> list[object]:
        if time.monotonic() < self._down_until:
            raise CountersUnavailable("Redis was unreachable a moment ago")
        try:
            return list(await script(keys=keys, args=args))  # type: ignore[operator]
        except (RedisError, OSError) as exc:
            self._down_until = time.monotonic() + DOWN_FOR
            raise CountersUnavailable(str(exc) or type(exc).__name__) from exc

    async def admit(self, client: str, limits: ClientLimits, cost: int, now: float, day: int) -> Admission:
        minute = int(now // MINUTE)
        keys = [self._key(client, "bucket"), self._key(client, "m", minute), self._key(client, "d", day)]
        args: list[object] = [
            repr(now), repr(limits.rate), limits.burst, cost, limits.cost_per_minute, limits.cost_per_day,
            2 * MINUTE, 2 * DAY,
        ]
        refused, left, retry = (_text(v) for v in await self._call(self._admit, keys, args))
        return Admission(refused or None, float(left), float(retry))

    async def disclose(
        self, client: str, day: int, counted: Mapping[str, tuple[int, Collection[str]]]
    ) -> QuotaRefusal | None:
        scopes = list(counted)
        keys = [self._key(client, "q", day, scope) for scope in scopes]
        args: list[object] = [2 * DAY]
        for scope in scopes:
            quota, refs = counted[scope]
            args.extend((quota, len(refs), *refs))
        index, used, asked = (int(_text(v) or 0) for v in await self._call(self._disclose, keys, args))
        return None if index == 0 else QuotaRefusal(scopes[index - 1], used, asked)

    async def usage(
        self, client: str, limits: ClientLimits, now: float, day: int, scopes: Collection[str]
    ) -> Usage:
        if time.monotonic() < self._down_until:
            raise CountersUnavailable("Redis was unreachable a moment ago")
        ordered = list(scopes)
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hmget(self._key(client, "bucket"), "tokens", "at")
                pipe.get(self._key(client, "m", int(now // MINUTE)))
                pipe.get(self._key(client, "d", day))
                for scope in ordered:
                    pipe.scard(self._key(client, "q", day, scope))
                bucket, minute, today, *counts = await pipe.execute()
        except (RedisError, OSError) as exc:
            self._down_until = time.monotonic() + DOWN_FOR
            raise CountersUnavailable(str(exc) or type(exc).__name__) from exc
        tokens = float(limits.burst) if bucket[0] is None else _refill(float(bucket[0]), float(bucket[1]), now, limits)
        return Usage(tokens, int(minute or 0), int(today or 0), dict(zip(ordered, map(int, counts), strict=True)))

    async def aclose(self) -> None:
        await self._redis.aclose()


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def build_counters(url: str, *, prefix: str = "hub:fair:", timeout: float = 1.0) -> Counters:
    return MemoryCounters() if url == "memory" else RedisCounters(url, prefix=prefix, timeout=timeout)
