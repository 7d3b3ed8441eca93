"""The sources' health shared through Redis, so that every replica's health page shows the same.

Each replica still measures its own calls (``hub/source_health.py``: a list append per call, no
store on the request path); every ``FLUSH_EVERY`` seconds, and before a health page is drawn, it
adds what it measured since to Redis in one pipelined round trip:

- ``<prefix><source>:<minute>``, a hash per source and minute (kept two hours): calls ``n``, failed
  calls ``f``, probes ``p``, cache hits ``h`` and misses ``m``, and two latency histograms: ``b<k>``
  of the calls (failed or not) for the hour's percentiles, ``s<k>`` of the answered calls and
  probes for the state's five minutes. Bucket ``k`` holds times up to ``FLOOR * 2**(k/8)`` seconds
  (each 9% wider than the last, 0.1 ms to two minutes), so a percentile is shown as its bucket's
  upper bound: at most 9% above the exact figure;
- ``<prefix><source>:recent``, the latest calls of every replica (time, seconds, failing side,
  probe), which say whether the last calls all failed;
- ``<prefix><source>:failure``, the latest failure with its side and reason.

A page reads the last hour's sixty hashes and the two sorted sets of every source in one round
trip, and draws the same report as one process does (``SourceReport``), to the minute. When Redis
does not answer, the page shows this replica's own view and says so.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

if TYPE_CHECKING:
    from hub.source_health import Call, SourceHealth, SourceReport

log = logging.getLogger("hub.source_health")

FLUSH_EVERY = 2.0
FLOOR = 0.0001  # seconds: the first bucket's bound
STEPS = 8  # buckets per doubling
BUCKETS = 170  # up to FLOOR * 2**(170/8) seconds, about 2.5 minutes
MINUTE_KEPT = 2 * 3600  # seconds a minute's hash lives
RECENT_KEPT = 50  # latest calls kept per source


def bucket(seconds: float) -> int:
    if seconds <= FLOOR:
        return 0
    return min(BUCKETS, math.ceil(math.log2(seconds / FLOOR) * STEPS - 1e-9))


def bound(k: int) -> float:
    """The upper bound of bucket ``k``, in seconds."""
    return FLOOR * 2 ** (k / STEPS)


class SharedHealth:
    def __init__(self, url: str, prefix: str = "hub:health:", timeout: float = 1.0) -> None:
        self.url = url
        self.prefix = prefix
        self._redis = Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        )
        self._replica = uuid.uuid4().hex[:8]
        self._sequence = 0
        self._lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._redis.aclose()

    def _key(self, source: str, part: str | int) -> str:
        return f"{self.prefix}{source}:{part}"

    async def flush(
        self, calls: list[tuple[str, Call]], cached: list[tuple[str, float, int, int]],
        failures: dict[str, tuple[float, str, str]],
    ) -> None:
        """Adds calls, cache lookups and the latest failures measured here; raises ``RedisError``."""
        if not (calls or cached or failures):
            return
        counts: dict[tuple[str, int], dict[str, int]] = {}
        latest: dict[str, dict[str, float]] = {}
        for source, call in calls:
            fields = counts.setdefault((source, int(call.at // 60)), {})
            if call.probe:
                fields["p"] = fields.get("p", 0) + 1
            else:
                fields["n"] = fields.get("n", 0) + 1
                k = f"b{bucket(call.seconds)}"
                fields[k] = fields.get(k, 0) + 1
                if call.failed is not None:
                    fields["f"] = fields.get("f", 0) + 1
            if call.failed is None:
                k = f"s{bucket(call.seconds)}"
                fields[k] = fields.get(k, 0) + 1
            self._sequence += 1
            member = json.dumps([call.at, call.seconds, call.failed, call.probe, self._replica, self._sequence])
            latest.setdefault(source, {})[member] = call.at
        for source, at, hits, misses in cached:
            fields = counts.setdefault((source, int(at // 60)), {})
            fields["h"] = fields.get("h", 0) + hits
            fields["m"] = fields.get("m", 0) + misses
        async with self._lock:
            pipe = self._redis.pipeline(transaction=False)
            for (source, minute), fields in counts.items():
                key = self._key(source, minute)
                for name, value in fields.items():
                    pipe.hincrby(key, name, value)
                pipe.expire(key, MINUTE_KEPT)
            for source, members in latest.items():
                key = self._key(source, "recent")
                newest = dict(sorted(members.items(), key=lambda item: item[1])[-RECENT_KEPT:])
                pipe.zadd(key, newest)
                pipe.zremrangebyrank(key, 0, -RECENT_KEPT - 1)
                pipe.expire(key, 86_400)
            for source, (at, side, reason) in failures.items():
                key = self._key(source, "failure")
                pipe.zadd(key, {json.dumps([at, side, reason]): at})
                pipe.zremrangebyrank(key, 0, -2)
                pipe.expire(key, 30 * 86_400)
            await pipe.execute()

    async def reports(self, health: SourceHealth, sources: Iterable[str]) -> list[SourceReport]:
        """Every replica's view of ``sources`` over the last hour; raises ``RedisError``."""
        from hub.source_health import HOUR

        names = list(sources)
        now = health.clock()
        minutes = [int(now // 60) - back for back in range(int(HOUR // 60))]
        pipe = self._redis.pipeline(transaction=False)
        for source in names:
            for minute in minutes:
                pipe.hgetall(self._key(source, minute))
            pipe.zrange(self._key(source, "recent"), 0, -1, withscores=True)
            pipe.zrange(self._key(source, "failure"), -1, -1)
        answers = await pipe.execute()
        reports, per_source = [], len(minutes) + 2
        for i, source in enumerate(names):
            chunk = answers[i * per_source:(i + 1) * per_source]
            hashes = [{k.decode(): int(v) for k, v in h.items()} for h in chunk[:len(minutes)]]
            recent = [json.loads(member) for member, _ in chunk[-2]]
            failure = json.loads(chunk[-1][0]) if chunk[-1] else None
            reports.append(health.combine(source, now, hashes, recent, failure))
        return reports


def percentile(histogram: dict[int, int], q: int) -> float | None:
    """Nearest-rank percentile of a histogram, as its bucket's upper bound."""
    total = sum(histogram.values())
    if not total:
        return None
    rank, seen = max(1, -(-q * total // 100)), 0
    for k in sorted(histogram):
        seen += histogram[k]
        if seen >= rank:
            return bound(k)
    return None  # not reached


def histogram(hashes: Iterable[dict[str, int]], letter: str) -> dict[int, int]:
    out: dict[int, int] = {}
    for fields in hashes:
        for name, value in fields.items():
            if name[0] == letter and name[1:].isdigit():
                out[int(name[1:])] = out.get(int(name[1:]), 0) + value
    return out


async def keep_sharing(health: SourceHealth, every: float = FLUSH_EVERY) -> None:
    """Flushes ``health`` to Redis every ``every`` seconds, until cancelled."""
    while True:
        await asyncio.sleep(every)
        try:
            await health.flush()
        except RedisError as exc:
            log.warning("source health not shared this time (Redis: %s); kept for the next try", exc)
