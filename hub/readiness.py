"""``/healthz`` (liveness) and ``/readyz`` (readiness), for a load balancer or Kubernetes.

Liveness says only that the process answers: restarting a replica because PostgreSQL is down would
not bring PostgreSQL back. Readiness says whether this replica can serve now: the registry database
answers and is at the code's migrations, and each configured Redis (entity cache, DPoP replay cache)
answers a PING. Nothing is remembered between checks, so a replica is ready again by itself as soon
as what it needs is back; each check is bounded by ``TIMEOUT`` so a hanging dependency reads as
"not ready", never as a hanging probe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from redis.asyncio import Redis
from starlette.requests import Request
from starlette.responses import JSONResponse

from hub.store.revision import RegistryBehind, require_migrated

if TYPE_CHECKING:
    from hub.settings import Settings
    from hub.store.owner import Database

TIMEOUT = 2.0
Check = Callable[[], Awaitable[None]]


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


class Readiness:
    """The named checks a replica must pass to be sent requests; others may ``add`` their own."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self.database = database
        self.checks: dict[str, Check] = {"registry": self._registry}
        self.details: dict[str, Callable[[], object]] = {}
        self._redis: dict[str, Redis] = {}
        for name, url in (("cache", settings.cache_url), ("replay_cache", settings.replay_cache_url)):
            if url.startswith(("redis://", "rediss://")):
                self._redis[name] = Redis.from_url(url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT)
                self.checks[name] = self._ping(self._redis[name])

    def add(self, name: str, check: Check) -> None:
        self.checks[name] = check

    def add_detail(self, name: str, detail: Callable[[], object]) -> None:
        """Shown in the body without deciding readiness (e.g. each department's circuit breaker:
        one department down makes no replica unfit to serve the others)."""
        self.details[name] = detail

    async def report(self) -> dict[str, str]:
        names = list(self.checks)
        outcomes = await asyncio.gather(*(self._run(self.checks[name]) for name in names))
        return dict(zip(names, outcomes, strict=True))

    async def endpoint(self, request: Request) -> JSONResponse:
        checks = await self.report()
        ready = all(outcome == "ok" for outcome in checks.values())
        body: dict[str, object] = {"status": "ready" if ready else "not ready", "checks": checks}
        body.update({name: detail() for name, detail in self.details.items()})
        return JSONResponse(body, status_code=200 if ready else 503, headers={"Cache-Control": "no-store"})

    async def aclose(self) -> None:
        for client in self._redis.values():
            await client.aclose()

    async def _run(self, check: Check) -> str:
        try:
            await asyncio.wait_for(check(), TIMEOUT)
        except TimeoutError:
            return f"no answer within {TIMEOUT:g} s"
        except RegistryBehind as exc:
            return str(exc)
        # Any failure is "not ready"; its kind is enough for the operator (logs hold the rest).
        except Exception as exc:  # noqa: BLE001
            return f"unreachable ({type(exc).__name__})"
        return "ok"

    async def _registry(self) -> None:
        await self.database.open()  # a database not reachable at start opens once it is
        await require_migrated(self.database.engine)

    @staticmethod
    def _ping(client: Redis) -> Check:
        async def ping() -> None:
            await client.ping()

        return ping
