"""``--workers N``: every target served by N processes, and the hubs' workers sharing what replicas share.

One rule for every server the bench starts (each hub target, the floor, each peer subgraph and each
gateway): ``N`` processes on its one port, by default one per core (``os.cpu_count()``), so that no
target is held to one core while another spreads over all of them. ``--workers 1`` serves each from
one process.

A hub served by several workers runs as production runs replicas: they share the registry and the
audit (the SQLite file in the target's state directory) and, through Redis, the DPoP replay cache
(without it a proof used at one worker would pass at another), the fair-use counters and the sources'
health. Each run takes a key prefix of its own (``hub-bench:<pid>:<time>:<target>:``) and deletes
every key under it at the end.
"""

from __future__ import annotations

import argparse
import os
import time

import redis

REDIS_URL = "redis://127.0.0.1:6379/0"


def default_workers() -> int:
    return os.cpu_count() or 1


def workers_arg(raw: str) -> int:
    """``--workers``: a whole number of at least 1."""
    try:
        count = int(raw)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {raw!r}")
    return count


class SharedState:
    """The Redis the hubs' workers of one run share (when there are several), and its clean-up."""

    def __init__(self, workers: int, url: str = REDIS_URL) -> None:
        self.workers = workers
        self.url = url
        self.prefix = f"hub-bench:{os.getpid()}:{int(time.time())}:"

    def check(self) -> None:
        """With several workers the hubs need Redis: say so before anything starts."""
        if self.workers == 1:
            return
        try:
            with redis.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2) as client:
                client.ping()
        except redis.RedisError as exc:
            raise SystemExit(f"bench: --workers {self.workers} needs Redis at {self.url} for the hubs' shared "
                             f"DPoP replay cache ({exc}); run with --workers 1 without it") from None

    def env(self, hub: str | None = None) -> dict[str, str]:
        """Environment of every server process: its worker count and, for the hub target ``hub``, its
        shared Redis.

        The hub's replay cache starts its epoch now (``hub.oauth.replay``: the marker a store that
        has been remembering since then would hold), so that the bench's first proofs, made after
        this, are not refused as possibly older than the store, as they would be within the second
        a new Redis store first starts remembering."""
        env = {"BENCH_WORKERS": str(self.workers)}
        if hub is not None and self.workers > 1:
            env |= {"BENCH_REDIS_URL": self.url, "BENCH_REDIS_PREFIX": f"{self.prefix}{hub}:"}
            with redis.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2) as client:
                client.set(f"{self.prefix}{hub}:replay:epoch", repr(time.time()), nx=True)
        return env

    def delete(self) -> int:
        """Every key this run wrote; how many there were."""
        if self.workers == 1:
            return 0
        deleted = 0
        with redis.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2) as client:
            for key in client.scan_iter(match=f"{self.prefix}*", count=1000):
                deleted += int(client.delete(key))
        return deleted
