"""The replay cache: a value (a DPoP proof's ``jti``) is accepted once.

(Client assertion ``jti``s are recorded in the registry database instead, ``Registry.first_use_assertion``,
so every replica sharing the registry shares them without Redis.)

One small protocol, two implementations with one contract test: in-process (one hub process)
and Redis (``HUB_REPLAY_CACHE_URL=redis://...``, shared by every replica; ``SET NX PX`` makes
the first use atomic across them).

Losing the store must not re-admit a proof it had seen, so each store has an **epoch**: the
moment it started remembering. A proof issued (``iat``) before the current epoch is refused
(``IssuedBeforeEpoch``), whether or not its ``jti`` is on record: it may have been used before the
store was lost. The in-process store starts with its process (a restart takes seconds, so its
epoch is that whole second). The Redis store keeps its epoch in a marker key with no expiry; when
the marker is missing (a Redis that restarted empty, a flush, or a first start) a new epoch starts
at that instant, checked in the same atomic script as the ``jti``. The cost: proofs made in the
second a new epoch starts are refused once, and the client's next proof passes. Redis must not
evict the marker: run it with ``maxmemory-policy noeviction`` or a ``volatile-*`` policy (the
``jti`` entries expire; the marker does not).

Redis failing is never a silent pass: ``DependencyUnavailable`` (503 ``REPLAY_CACHE_UNAVAILABLE``)
after one immediate retry on a fresh connection, so a Redis that came back serves the next request
instead of failing on each stale pooled connection. A reply that came too late is not retried: the
script may have run, and run again it would find its own jti and call a fresh proof replayed.
"""

from __future__ import annotations

import heapq
import logging
import time
from typing import Protocol

from hub.fairuse.wire import Script, Wire, WireError, WireTimeout
from hub.faults.outage import REPLAY_CACHE_UNAVAILABLE, DependencyUnavailable, Outage

log = logging.getLogger("hub.oauth.replay")
REPLAY_CACHE = Outage(REPLAY_CACHE_UNAVAILABLE, "DPoP replay cache")


class IssuedBeforeEpoch(Exception):
    """The proof was issued before the replay cache's current epoch began."""


class ReplayCache(Protocol):
    async def first_use(self, key: str, ttl: float, issued_at: float) -> bool:
        """True the first time ``key`` is seen within ``ttl`` seconds, False on every reuse;
        ``IssuedBeforeEpoch`` when ``issued_at`` lies before the store's epoch."""
        ...

    async def aclose(self) -> None: ...


class MemoryReplayCache:
    """In-process: a dict of expiries and a heap ordered by expiry, so expired entries are pruned
    from the heap's head (O(log n) each) rather than by scanning. At ``max_entries`` live values it
    fails closed: a new value is refused (never accepted unrecorded) until older ones expire."""

    def __init__(self, max_entries: int = 1_000_000, *, epoch: int | None = None) -> None:
        self._seen: dict[str, float] = {}
        self._expiries: list[tuple[float, str]] = []
        self._max_entries = max_entries
        self.epoch = int(time.time()) if epoch is None else epoch  # the process's start, by the server's clock

    async def first_use(self, key: str, ttl: float, issued_at: float) -> bool:
        if issued_at < self.epoch:
            raise IssuedBeforeEpoch
        now = time.monotonic()
        self._prune(now)
        if key in self._seen:
            return False
        if len(self._seen) >= self._max_entries:
            return False  # full of live values: refuse rather than forget one
        expiry = now + max(ttl, 1.0)
        self._seen[key] = expiry
        heapq.heappush(self._expiries, (expiry, key))
        return True

    def _prune(self, now: float) -> None:
        while self._expiries and self._expiries[0][0] <= now:
            expiry, key = heapq.heappop(self._expiries)
            if self._seen.get(key) == expiry:
                del self._seen[key]

    async def aclose(self) -> None:
        self._seen.clear()
        self._expiries.clear()


# KEYS: epoch marker, jti key; ARGV: now, ttl in ms, issued at. Returns {verdict, new epoch?}:
# verdict 1 first use, 0 reuse, -1 issued before the epoch.
FIRST_USE = """
local epoch = redis.call('GET', KEYS[1])
local started = 0
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[1], epoch)
  started = 1
end
if tonumber(ARGV[3]) < tonumber(epoch) then return {-1, started} end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then return {1, started} end
return {0, started}
"""


_FIRST_USE = Script(FIRST_USE.encode())


class RedisReplayCache:
    """Redis through the lean pipelined connection the fair-use counters use (``hub.fairuse.wire``):
    one ``EVALSHA`` a proof. A general client spent about three times the round trip's own CPU on
    its pool, command objects and parser (150 us a proof against about 50)."""

    def __init__(self, url: str, *, prefix: str = "hub:replay:", timeout: float = 1.0) -> None:
        self._wire = Wire(url, [_FIRST_USE], timeout=timeout)
        self._prefix = prefix

    async def first_use(self, key: str, ttl: float, issued_at: float) -> bool:
        # A jti is JSON text and may hold a lone surrogate: its code points encoded one by one
        # (surrogatepass), so distinct values stay distinct keys and none fails to encode.
        keys = (self._prefix + "epoch", (self._prefix + key).encode("utf-8", "surrogatepass"))
        args = (repr(time.time()), max(1000, int(ttl * 1000)), issued_at)
        try:
            try:
                verdict, started = await self._wire.evalsha(_FIRST_USE, keys, args)
            except WireTimeout:  # it may have run: sent again, it would find its own jti and call it replayed
                raise
            except WireError:  # once more, on a fresh connection: a Redis that came back serves now
                verdict, started = await self._wire.evalsha(_FIRST_USE, keys, args)
        except WireError as exc:
            raise DependencyUnavailable(REPLAY_CACHE) from exc
        if started:
            log.warning("the DPoP replay cache (%s) had no epoch marker: it is new or lost its data; "
                        "proofs issued before now are refused", self._prefix)
        if verdict == -1:
            raise IssuedBeforeEpoch
        return bool(verdict == 1)

    async def aclose(self) -> None:
        await self._wire.aclose()


def build_replay_cache(
    url: str, *, prefix: str = "hub:replay:", timeout: float = 1.0, started: int | None = None
) -> ReplayCache:
    if url == "memory":
        return MemoryReplayCache(epoch=started)
    return RedisReplayCache(url, prefix=prefix, timeout=timeout)
