"""The fair-use counters: one small protocol, two implementations with one contract test.

``RedisCounters`` (every replica shares one Redis) makes each decision in one Lua script, so a check
and its count are atomic across replicas: two requests racing for a client's last token, the last
of a cost budget or the last subject of a quota cannot both win, and nothing is counted for a
request that is refused. ``MemoryCounters`` does the same in one process (the development demo, a
single-process hub, and the fallback a replica uses for rate limits while Redis is unreachable).

- ``admit``: a token bucket (``rate`` per second up to ``burst``) and two fixed-window cost budgets
  (the calendar minute, the city's day); refused on the first that does not hold, counting nothing.
  An admission may also *reserve* room under the client's quota'd scopes for the request it
  admits (``reserve``: scope -> (quota, subjects wanted), under a ``ticket`` naming the request):
  per scope ``min(wanted, quota - shown today - held by other reservations)``, granted in the same
  step. ``|shown today| + held <= quota`` holds after every step, so reservations racing for the
  last units of a quota, from any number of replicas, never grant more than is left.
- ``settle``: an answer that showed no more subjects under each scope than its ticket holds there
  adds them and releases the ticket, with no decision to make (it fits by construction): the gate
  sends it after the answer, off the request's critical path. Idempotent: a ticket released once is
  not released again, and adding a subject twice counts it once, so a settle sent twice (a retry, a
  reply lost to a dropped connection) never frees room twice.
- ``disclose``: per scope, a set of the subjects shown today; the request's new subjects are added
  only if every scope stays within its quota less what other requests' tickets hold (all or
  nothing). Its own ticket, if any, is released either way.

- leases: an admission may also add units to a replica's *lease* under a scope (``lease``, under a
  ``holder`` naming the replica), no more than half the room left once its own reservation is
  granted; a settle naming the holder takes from it the subjects new beyond what its ticket held,
  and an exact ``disclose`` naming it gives units of it back first (``returned``). A lease is held
  like any reservation: ``|shown today| + held <= quota`` holds through all of it.

A ticket that is never settled, or a lease never used (its replica stopped, or Redis was lost before
the settle came) keeps holding its room until its day's keys end: a crash over-counts (room held
that no subject used), it never under-counts.

In Redis a client has one hash, ``hub:fair:{client}:use`` (its bucket and what it spent in the
current minute and day, each window named by its index), and per quota'd scope and day one set,
``hub:fair:{client}:q:DAY:SCOPE``, and one hash of the reservations held,
``hub:fair:{client}:r:DAY:SCOPE`` (ticket or lease holder -> units, and ``*`` -> their sum). The client id in braces
keeps one client's keys in one slot of a Redis Cluster, where a script may only touch keys of one
slot. The scripts go over the counters' own connection (``hub.fairuse.wire``): one round trip per
decision.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


from hub.fairuse.limits import ClientLimits
from hub.fairuse.wire import Script, Wire, WireError, bulk
from hub.faults import DependencyUnavailable, Outage

DAY = 86_400
MINUTE = 60
DOWN_FOR = 1.0  # seconds a replica skips Redis after a failure, so an outage costs no timeout per request
QUOTA_UNAVAILABLE = "QUOTA_UNAVAILABLE"
ENCODED_KEPT = 4096  # clients (and client, day, scope) whose encoded keys a replica keeps
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
    seconds until a token is back (rate); ``reserved``: the room held under each scope asked for;
    ``leased``: the units added to the lease of the replica that asked, per scope asked."""

    refused: str | None
    left: float = 0.0
    retry_after: float = 0.0
    reserved: Mapping[str, int] = field(default_factory=dict)  # scope -> units held for the request (admitted)
    leased: Mapping[str, int] = field(default_factory=dict)  # scope -> units added to the holder's lease


@dataclass(frozen=True, slots=True)
class QuotaRefusal:
    scope: str
    used: int  # distinct subjects shown today under the scope
    asked: int  # new subjects this request would have added
    held: int = 0  # units other requests' reservations hold under it (they count as used until settled)


@dataclass(frozen=True, slots=True)
class Usage:
    """A client's consumption as read now (the console's usage view)."""

    tokens: float
    cost_this_minute: int
    cost_today: int
    subjects_today: Mapping[str, int] = field(default_factory=dict)  # scope -> distinct subjects
    held: Mapping[str, int] = field(default_factory=dict)  # scope -> units reserved by requests not settled


Reserve = Mapping[str, tuple[int, int]]  # scope -> (its quota, the units the request asks to hold)


class Counters(Protocol):
    async def admit(
        self, client: str, limits: ClientLimits, cost: int, now: float, day: int,
        reserve: Reserve | None = None, ticket: str = "", lease: Reserve | None = None, holder: str = "",
    ) -> Admission:
        """``lease``: scope -> (its quota, units asked) added to the lease ``holder`` keeps there, once
        the request's own reservation is granted: per scope ``min(asked, (room left) // 2)``."""
        ...

    async def disclose(
        self, client: str, day: int, counted: Mapping[str, tuple[int, Collection[str]]], ticket: str = "",
        holder: str = "", returned: Mapping[str, int] | None = None,
    ) -> QuotaRefusal | None:
        """``counted``: scope -> (its quota, the references of the subjects shown under it); a scope
        the ticket holds room under and nothing was shown under comes with no references.
        ``returned``: units of ``holder``'s lease given back under a scope before deciding (room
        for this request too), whatever the decision."""
        ...

    async def settle(
        self, client: str, day: int, ticket: str, shown: Mapping[str, Collection[str]], holder: str = "",
    ) -> Mapping[str, int]:
        """Add what an answer within its reservations (and ``holder``'s lease) showed (scope ->
        references; every scope the ticket holds, references or none) and release the ticket; under
        a scope where more subjects were new than the ticket held, the rest are taken from the lease.
        Returns, per scope, the lease units taken (none without a holder)."""
        ...

    async def usage(
        self, client: str, limits: ClientLimits, now: float, day: int, scopes: Collection[str]
    ) -> Usage: ...

    async def aclose(self) -> None: ...


def checked_reservation(reserve: Reserve | None, ticket: str) -> Reserve:
    """What an admission may be asked to hold: a ticket for it, a quota of at least 1, a count of 0 or more."""
    if not reserve:
        return {}
    checked_ticket(ticket)
    for scope, (quota, wanted) in reserve.items():
        for name, value, least in (("quota", quota, 1), ("units wanted", wanted, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"a reservation under {scope!r}: {name} must be a whole number of at least "
                                 f"{least} (is {value!r})")
    return reserve


def checked_ticket(ticket: str) -> None:
    if not ticket or not isinstance(ticket, str) or len(ticket) > 64 or "*" in ticket:
        raise ValueError(f"a reservation needs a ticket of 1-64 characters without '*' (is {ticket!r})")


def checked_lease(lease: Reserve | None, holder: str, ticket: str) -> Reserve:
    """A lease asked for: a holder that is not the request's own ticket, quotas and units as a reservation's."""
    if not lease:
        return {}
    checked_reservation(lease, holder)
    if holder == ticket:
        raise ValueError(f"a lease's holder must not be a request's ticket (is {holder!r})")
    return lease


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
        self._held: dict[tuple[str, str], tuple[int, dict[str, int]]] = {}  # (client, scope) -> (day, tickets)

    async def admit(
        self, client: str, limits: ClientLimits, cost: int, now: float, day: int,
        reserve: Reserve | None = None, ticket: str = "", lease: Reserve | None = None, holder: str = "",
    ) -> Admission:
        reserve, lease = checked_reservation(reserve, ticket), checked_lease(lease, holder, ticket)
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
        reserved: dict[str, int] = {}
        for scope, (quota, wanted) in reserve.items():
            tickets = self._tickets(client, scope, day)
            room = quota - len(self._seen(client, scope, day)) - sum(tickets.values())
            granted = reserved[scope] = max(0, min(wanted, room))
            if granted:
                tickets[ticket] = tickets.get(ticket, 0) + granted
        leased: dict[str, int] = {}
        for scope, (quota, asked) in lease.items():
            tickets = self._tickets(client, scope, day)
            room = quota - len(self._seen(client, scope, day)) - sum(tickets.values())
            granted = leased[scope] = max(0, min(asked, room // 2))
            if granted:
                tickets[holder] = tickets.get(holder, 0) + granted
        return Admission(None, tokens - 1, reserved=reserved, leased=leased)

    async def disclose(
        self, client: str, day: int, counted: Mapping[str, tuple[int, Collection[str]]], ticket: str = "",
        holder: str = "", returned: Mapping[str, int] | None = None,
    ) -> QuotaRefusal | None:
        fresh: dict[str, set[str]] = {}
        refused: QuotaRefusal | None = None
        for scope, units in (returned or {}).items():
            if holder and units > 0:
                _take(self._tickets(client, scope, day), holder, units)
        for scope, (quota, refs) in counted.items():
            seen, tickets = self._seen(client, scope, day), self._tickets(client, scope, day)
            held = sum(tickets.values()) - tickets.get(ticket, 0)
            fresh[scope] = set(refs) - seen
            if refs and len(seen) + held + len(fresh[scope]) > quota:
                refused = QuotaRefusal(scope, len(seen), len(fresh[scope]), held)
                break
        for scope in counted:
            self._tickets(client, scope, day).pop(ticket, None)
        if refused is not None:
            return refused
        for scope, refs in fresh.items():
            self._seen(client, scope, day).update(refs)
        return None

    async def settle(
        self, client: str, day: int, ticket: str, shown: Mapping[str, Collection[str]], holder: str = "",
    ) -> Mapping[str, int]:
        if not ticket:
            raise ValueError("a settle names the ticket it releases")
        taken: dict[str, int] = {}
        for scope, refs in shown.items():
            seen, tickets = self._seen(client, scope, day), self._tickets(client, scope, day)
            before = len(seen)
            seen.update(refs)
            new, units = len(seen) - before, tickets.pop(ticket, 0)
            if holder and new > units:
                taken[scope] = _take(tickets, holder, new - units)
        return taken

    def _tickets(self, client: str, scope: str, day: int) -> dict[str, int]:
        found = self._held.get((client, scope))
        if found is None or found[0] < day:
            found = self._held[(client, scope)] = (day, {})
        return found[1] if found[0] == day else {}

    def _seen(self, client: str, scope: str, day: int) -> set[str]:
        """The day's subjects; one day is kept per scope, the latest asked (an earlier day is over: what
        is asked or added of it is a set of its own, not kept)."""
        found = self._subjects.get((client, scope))
        if found is None or found[0] < day:
            found = self._subjects[(client, scope)] = (day, set())
        return found[1] if found[0] == day else set()

    async def usage(
        self, client: str, limits: ClientLimits, now: float, day: int, scopes: Collection[str]
    ) -> Usage:
        tokens, at = self._buckets.get(client, (float(limits.burst), now))
        minute, spent_day = self._minutes.get(client, _Window()), self._days.get(client, _Window())
        return Usage(
            _refill(tokens, at, now, limits), minute.at(int(now // MINUTE)), spent_day.at(day),
            {scope: len(self._seen(client, scope, day)) for scope in scopes},
            {scope: sum(self._tickets(client, scope, day).values()) for scope in scopes},
        )

    async def aclose(self) -> None:
        self._buckets.clear()


def _take(tickets: dict[str, int], holder: str, units: int) -> int:
    """Up to ``units`` of ``holder``'s lease released (taken by subjects, or given back); how many."""
    held = tickets.get(holder, 0)
    taken = min(held, units)
    if held - taken > 0:
        tickets[holder] = held - taken
    else:
        tickets.pop(holder, None)
    return taken


def _numbers(now: float, cost: int, minute: int, day: int) -> bytes:
    """``ADMIT``'s own numbers for a request (``bulk``'s bytes, in one step: every admission pays it)."""
    at, spent, this_minute, today = repr(now).encode(), b"%d" % cost, b"%d" % minute, b"%d" % day
    return b"$%d\r\n%b\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n" % (
        len(at), at, len(spent), spent, len(this_minute), this_minute, len(today), today,
    )


def _text(text: str) -> bytes:
    data = text.encode()
    return b"$%d\r\n%b\r\n" % (len(data), data)


def _over_budget(limits: ClientLimits, cost: int, minute: int, day: int) -> Admission | None:
    if limits.cost_per_minute and minute + cost > limits.cost_per_minute:
        return Admission("cost_per_minute", max(0, limits.cost_per_minute - minute))
    if limits.cost_per_day and day + cost > limits.cost_per_day:
        return Admission("cost_per_day", max(0, limits.cost_per_day - day))
    return None


# KEYS: the client's one hash (its bucket: tokens, at; the cost spent in the minute and the day it
# names), then per scope asked to reserve under: today's set of subjects and today's reservations.
# ARGV: rate, burst, cost_per_minute, cost_per_day, the keys' ttl (the client's own: encoded once per
# client), then now (s), cost, this minute's index, this day's index, the ticket, then per scope:
# quota, units wanted. A window whose index is not the current one has spent nothing yet. Numbers are
# written as '%.17g' (exact for every cost a budget allows, and for the tokens' float). Admitted: the
# tokens left, then the units reserved under each scope, space-separated (one bulk string); refused:
# {what, left, retry after}, nothing reserved. A replica's lease asked for comes after the scopes
# reserved: KEYS then name its scopes' keys too, and ARGV ends with the holder, per scope (quota,
# units asked) and the number of those scopes (told apart by #ARGV - #KEYS == 11, the ticket's place
# always taken); the units, no more than half the room left once the request's own are granted, are
# added under the holder and replied after the request's. A day's reservations' hash gets its ttl when it is made
# (no sum yet), not on every reservation: it is one day's, and outlives the day either way. Its sum
# stays, at 0, when every ticket is released, so a client's next request finds the hash made.
ADMIT = Script(b"""
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local per_minute, per_day = tonumber(ARGV[3]), tonumber(ARGV[4])
local now, cost = tonumber(ARGV[6]), tonumber(ARGV[7])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'minute', 'minute_cost', 'day', 'day_cost')
local tokens, at = tonumber(state[1]) or burst, tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local function g(x) return string.format('%.17g', x) end
if tokens < 1 then return {'rate', g(tokens), g((1 - tokens) / rate)} end
local minute = state[3] == ARGV[8] and tonumber(state[4]) or 0
if per_minute > 0 and minute + cost > per_minute then
  return {'cost_per_minute', g(math.max(0, per_minute - minute)), '0'}
end
local day = state[5] == ARGV[9] and tonumber(state[6]) or 0
if per_day > 0 and day + cost > per_day then return {'cost_per_day', g(math.max(0, per_day - day)), '0'} end
redis.call('HSET', KEYS[1], 'tokens', g(tokens - 1), 'at', g(math.max(now, at)), 'minute', ARGV[8],
  'minute_cost', g(minute + cost), 'day', ARGV[9], 'day_cost', g(day + cost))
redis.call('EXPIRE', KEYS[1], ARGV[5])
if #KEYS == 1 then return g(tokens - 1) end
local leases = #ARGV - #KEYS == 11 and tonumber(ARGV[#ARGV]) or 0
local reserves = (#KEYS - 1) / 2 - leases
local reply = {g(tokens - 1)}
for k = 2, #KEYS, 2 do
  local lease = k > 2 * reserves
  local a = lease and 10 + k or 9 + k
  local quota, wanted = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  local sum = redis.call('HGET', KEYS[k + 1], '*')
  local held = tonumber(sum) or 0
  local room = quota - redis.call('SCARD', KEYS[k]) - held
  local granted = math.max(0, math.min(wanted, lease and math.floor(room / 2) or room))
  if granted > 0 then
    if lease then
      redis.call('HINCRBY', KEYS[k + 1], ARGV[11 + 2 * reserves], granted)
      redis.call('HSET', KEYS[k + 1], '*', held + granted)
    else
      redis.call('HSET', KEYS[k + 1], '*', held + granted, ARGV[10], granted)
    end
    if not sum then redis.call('EXPIRE', KEYS[k + 1], ARGV[5]) end
  end
  reply[#reply + 1] = granted
end
return table.concat(reply, ' ')
""")

# Releasing a ticket's units under one scope (KEYS[k + 1], its reservations' hash): at most once;
# taking up to n units of a lease's (it keeps the rest): how many were.
_RELEASE = b"""
local function release(key, ticket)
  local units = tonumber(redis.call('HGET', key, ticket))
  if units then
    redis.call('HDEL', key, ticket)
    if redis.call('HINCRBY', key, '*', -units) < 0 then redis.call('HSET', key, '*', 0) end
  end
  return units or 0
end
local function take(key, holder, n)
  local units = tonumber(redis.call('HGET', key, holder)) or 0
  local taken = math.min(units, n)
  if taken <= 0 then return 0 end
  if taken == units then redis.call('HDEL', key, holder) else redis.call('HINCRBY', key, holder, -taken) end
  if redis.call('HINCRBY', key, '*', -taken) < 0 then redis.call('HSET', key, '*', 0) end
  return taken
end
"""

# KEYS: per scope, today's set of subjects and today's reservations. ARGV: ttl, the ticket (empty:
# none), the holder of a replica's lease (empty: none), then per scope: quota, the lease's units given
# back there first (counted as room for this request), n, n references (distinct). A scope whose set has room for all n,
# were every one of them new, beside what other tickets hold, is not asked which are (the common
# case: a client far from its quota); otherwise membership is asked per 5,000 references (SMISMEMBER,
# Redis 6.2; a Lua call takes at most ~8,000 arguments) and the scope refused if its new ones do not
# fit. The ticket is released under every scope either way. When every scope holds, each scope's
# references are added whole (those already in count once) and the reply is 0; refused: {the
# scope's index among the scopes, used, new, held by other tickets}.
DISCLOSE = Script(_RELEASE + b"""
local i, starts, refused = 4, {}, nil
for k = 1, #KEYS, 2 do
  if ARGV[3] ~= '' and tonumber(ARGV[i + 1]) > 0 then take(KEYS[k + 1], ARGV[3], tonumber(ARGV[i + 1])) end
  local quota, n = tonumber(ARGV[i]), tonumber(ARGV[i + 2])
  i = i + 1
  if n > 0 and not refused then
    local used = redis.call('SCARD', KEYS[k])
    local reserved = redis.call('HMGET', KEYS[k + 1], '*', ARGV[2])
    local held = (tonumber(reserved[1]) or 0) - (tonumber(reserved[2]) or 0)
    if used + held + n > quota then
      local new = 0
      for s = i + 2, i + 1 + n, 5000 do
        local known = redis.call('SMISMEMBER', KEYS[k], unpack(ARGV, s, math.min(s + 4999, i + 1 + n)))
        for j = 1, #known do new = new + 1 - known[j] end
      end
      if used + held + new > quota then refused = {(k + 1) / 2, used, new, held} end
    end
  end
  starts[k], i = i + 2, i + 2 + n
end
for k = 1, #KEYS, 2 do release(KEYS[k + 1], ARGV[2]) end
if refused then return refused end
for k = 1, #KEYS, 2 do
  local last = starts[k] + tonumber(ARGV[starts[k] - 1]) - 1
  if last >= starts[k] then
    for s = starts[k], last, 5000 do redis.call('SADD', KEYS[k], unpack(ARGV, s, math.min(s + 4999, last))) end
    redis.call('EXPIRE', KEYS[k], ARGV[1])
  end
end
return 0
""")

# KEYS: per scope the ticket holds room under, today's set of subjects and today's reservations.
# ARGV: ttl, the ticket, the holder of the replica's lease (empty: none), then per scope: n, n
# references (no more than the ticket and the lease hold there: the gate sends a settle only then).
# The references are added and the ticket released; the subjects new beyond what the ticket held are
# taken from the lease. The reply: the units taken per scope, space-separated. Sent twice, the second
# changes nothing (no subject is new again, the ticket is gone).
SETTLE = Script(_RELEASE + b"""
local i, taken = 4, {}
for k = 1, #KEYS, 2 do
  local n, new = tonumber(ARGV[i]), 0
  for s = i + 1, i + n, 5000 do
    new = new + redis.call('SADD', KEYS[k], unpack(ARGV, s, math.min(s + 4999, i + n)))
  end
  if n > 0 then redis.call('EXPIRE', KEYS[k], ARGV[1]) end
  local units = release(KEYS[k + 1], ARGV[2])
  taken[#taken + 1] = (ARGV[3] ~= '' and new > units) and take(KEYS[k + 1], ARGV[3], new - units) or 0
  i = i + 1 + n
end
return table.concat(taken, ' ')
""")


class RedisCounters:
    """Shared by every replica (``HUB_FAIR_USE_URL``, by default the replay cache's Redis), over the
    counters' own connection (``hub.fairuse.wire``: scripts preloaded, one round trip a call). What
    every admission of a client sends alike (its hash's key, its limits, a quota'd scope's keys for
    the day) is encoded once and kept; a request encodes only its own numbers."""

    def __init__(self, url: str, *, prefix: str = "hub:fair:", timeout: float = 1.0) -> None:
        self._wire = Wire(url, (ADMIT, DISCLOSE, SETTLE), timeout=timeout)
        self._prefix = prefix
        self._down_until = 0.0
        self._clients: dict[str, tuple[ClientLimits, bytes, bytes]] = {}  # client -> its limits, key, ARGV head
        self._scopes: dict[tuple[str, int, str], bytes] = {}  # (client, day, scope) -> its keys
        self._wanted: dict[tuple[int, int], bytes] = {}  # (quota, units wanted) -> as ``ADMIT`` takes them
        self._reservations: dict[tuple[str, int], tuple[Reserve, int, bytes, bytes]] = {}  # (client, id) -> parts

    def _key(self, client: str, *parts: object) -> str:
        return f"{self._prefix}{{{client}}}:" + ":".join(str(p) for p in parts)

    def _check_up(self) -> None:
        if time.monotonic() < self._down_until:
            raise CountersUnavailable("Redis was unreachable a moment ago")

    def _down(self, exc: Exception) -> CountersUnavailable:
        self._down_until = time.monotonic() + DOWN_FOR
        return CountersUnavailable(str(exc) or type(exc).__name__)

    async def _call(self, script: Script, keys: list[str], args: list[bytes | str | int | float]) -> Any:
        self._check_up()
        try:
            return await self._wire.evalsha(script, keys, args)
        except (WireError, OSError) as exc:
            raise self._down(exc) from exc

    async def _call_encoded(self, script: Script, keys: int, parts: int, encoded: bytes) -> Any:
        self._check_up()
        try:
            return await self._wire.evalsha_encoded(script, keys, parts, encoded)
        except (WireError, OSError) as exc:
            raise self._down(exc) from exc

    def _scope_keys(self, client: str, day: int, scopes: Iterable[str]) -> list[str]:
        """Per scope, its set of today's subjects and its reservations' hash."""
        base = f"{self._prefix}{{{client}}}:"
        return [key for scope in scopes for key in (f"{base}q:{day}:{scope}", f"{base}r:{day}:{scope}")]

    async def admit(
        self, client: str, limits: ClientLimits, cost: int, now: float, day: int,
        reserve: Reserve | None = None, ticket: str = "", lease: Reserve | None = None, holder: str = "",
    ) -> Admission:
        key, own = self._client_parts(client, limits)
        numbers = _numbers(now, cost, int(now // MINUTE), day)
        if lease:
            reply = await self._admit_leasing(client, day, key, own + numbers, reserve or {}, ticket, lease, holder)
        elif reserve:
            scope_keys, wanted = self._reservation_parts(client, day, reserve, ticket)
            keys = 1 + 2 * len(reserve)
            encoded = b"".join((key, scope_keys, own, numbers, _text(ticket), wanted))
            reply = await self._call_encoded(ADMIT, keys, keys + 10 + 2 * len(reserve), encoded)
        else:
            reply = await self._call_encoded(ADMIT, 1, 10, key + own + numbers)
        if type(reply) is bytes:  # admitted: one bulk string (the common reply, read at once)
            if not (reserve or lease):
                return Admission(None, float(reply))
            left, *granted = reply.split(b" ")
            units = list(map(int, granted))
            reserved = dict(zip(reserve or {}, units, strict=False))
            leased = dict(zip(lease or {}, units[len(reserved):], strict=True))
            return Admission(None, float(left), reserved=reserved, leased=leased)
        refused, left, retry = reply
        return Admission(refused.decode(), float(left), float(retry))

    async def _admit_leasing(
        self, client: str, day: int, key: bytes, head: bytes, reserve: Reserve, ticket: str, lease: Reserve,
        holder: str,
    ) -> Any:
        """An admission that also tops up a replica's lease (seldom: once per lease's worth of units)."""
        checked_lease(lease, holder, ticket)
        scope_keys, wanted = self._reservation_parts(client, day, reserve, ticket) if reserve else (b"", b"")
        lease_keys = b"".join([self._scope_parts(client, day, scope) for scope in lease])
        asked = bulk([holder, *(n for pair in lease.values() for n in pair), len(lease)])
        keys = 1 + 2 * len(reserve) + 2 * len(lease)
        encoded = b"".join((key, scope_keys, lease_keys, head, _text(ticket), wanted, asked))
        return await self._call_encoded(ADMIT, keys, keys + 12 + 2 * len(reserve) + 2 * len(lease), encoded)

    def _client_parts(self, client: str, limits: ClientLimits) -> tuple[bytes, bytes]:
        """A client's hash's key and its limits as ``ADMIT`` takes them, encoded once per client (again
        when its limits change)."""
        found = self._clients.get(client)
        if found is None or (found[0] is not limits and found[0] != limits):
            if len(self._clients) >= ENCODED_KEPT:
                self._clients.clear()
            own = bulk((limits.rate, limits.burst, limits.cost_per_minute, limits.cost_per_day, 2 * DAY))
            found = self._clients[client] = (limits, bulk((self._key(client, "use"),)), own)
        return found[1], found[2]

    def _reservation_parts(self, client: str, day: int, reserve: Reserve, ticket: str) -> tuple[bytes, bytes]:
        """A reservation's scopes' keys and its (quota, units) per scope, as ``ADMIT`` takes them; checked
        and encoded once per client, day and reservation (the gate hands one mapping per operation's
        forecast), the ticket checked every time."""
        found = self._reservations.get((client, id(reserve)))
        if found is not None and found[0] is reserve and found[1] == day:
            checked_ticket(ticket)
            return found[2], found[3]
        checked_reservation(reserve, ticket)
        if len(self._reservations) >= ENCODED_KEPT:
            self._reservations.clear()
        scope_keys = b"".join([self._scope_parts(client, day, scope) for scope in reserve])
        wanted = b"".join([self._wanted_parts(units) for units in reserve.values()])
        self._reservations[(client, id(reserve))] = (reserve, day, scope_keys, wanted)  # kept: its id not reused
        return scope_keys, wanted

    def _wanted_parts(self, wanted: tuple[int, int]) -> bytes:
        """A scope's (quota, units wanted), encoded once (a document asks the same units each time)."""
        found = self._wanted.get(wanted)
        if found is None:
            if len(self._wanted) >= ENCODED_KEPT:
                self._wanted.clear()
            found = self._wanted[wanted] = bulk(wanted)
        return found

    def _scope_parts(self, client: str, day: int, scope: str) -> bytes:
        """A scope's two keys for the day (``_scope_keys``), encoded once per client, day and scope."""
        found = self._scopes.get((client, day, scope))
        if found is None:
            if len(self._scopes) >= ENCODED_KEPT:
                self._scopes.clear()
            found = self._scopes[(client, day, scope)] = bulk(self._scope_keys(client, day, (scope,)))
        return found

    async def disclose(
        self, client: str, day: int, counted: Mapping[str, tuple[int, Collection[str]]], ticket: str = "",
        holder: str = "", returned: Mapping[str, int] | None = None,
    ) -> QuotaRefusal | None:
        scopes = list(counted)
        args: list[bytes | str | int | float] = [2 * DAY, ticket, holder]
        given = returned or {}
        for scope in scopes:
            quota, refs = counted[scope]
            distinct = refs if isinstance(refs, (set, frozenset)) else set(refs)
            args.extend((quota, given.get(scope, 0), len(distinct), *distinct))
        reply = await self._call(DISCLOSE, self._scope_keys(client, day, scopes), args)
        if reply == 0:  # counted
            return None
        index, used, asked, held = reply
        return QuotaRefusal(scopes[index - 1], used, asked, held)

    async def settle(
        self, client: str, day: int, ticket: str, shown: Mapping[str, Collection[str]], holder: str = "",
    ) -> Mapping[str, int]:
        if not ticket:
            raise ValueError("a settle names the ticket it releases")
        args: list[bytes | str | int | float] = [2 * DAY, ticket, holder]
        for refs in shown.values():
            distinct = refs if isinstance(refs, (set, frozenset)) else set(refs)
            args.extend((len(distinct), *distinct))
        reply = await self._call(SETTLE, self._scope_keys(client, day, shown), args)
        if not holder:
            return {}
        taken = dict(zip(shown, map(int, reply.split()), strict=True)) if reply else {}
        return {scope: units for scope, units in taken.items() if units}

    async def usage(
        self, client: str, limits: ClientLimits, now: float, day: int, scopes: Collection[str]
    ) -> Usage:
        self._check_up()
        ordered = list(scopes)
        try:
            state, *counts = await self._wire.commands(
                (b"HMGET", self._key(client, "use"), b"tokens", b"at", b"minute", b"minute_cost", b"day", b"day_cost"),
                *((b"SCARD", self._key(client, "q", day, scope)) for scope in ordered),
                *((b"HGET", self._key(client, "r", day, scope), b"*") for scope in ordered),
            )
        except (WireError, OSError) as exc:
            raise self._down(exc) from exc
        counts, held = counts[:len(ordered)], counts[len(ordered):]
        tokens, at, minute, minute_cost, spent_day, day_cost = state
        tokens = float(limits.burst) if tokens is None else _refill(float(tokens), float(at), now, limits)
        this_minute = int(float(minute_cost)) if minute == str(int(now // MINUTE)).encode() else 0
        today = int(float(day_cost)) if spent_day == str(day).encode() else 0
        return Usage(
            tokens, this_minute, today, dict(zip(ordered, counts, strict=True)),
            {scope: int(units or 0) for scope, units in zip(ordered, held, strict=True)},
        )

    async def ping(self) -> None:
        """One bare round trip on the counters' connection (the floor any shared check stands on)."""
        await self._wire.commands((b"PING",))

    async def aclose(self) -> None:
        await self._wire.aclose()


def build_counters(url: str, *, prefix: str = "hub:fair:", timeout: float = 1.0) -> Counters:
    return MemoryCounters() if url == "memory" else RedisCounters(url, prefix=prefix, timeout=timeout)
