"""What token validation reads of the registry, kept until the registry says it changed.

A live token needs three reads per request: is its id revoked, is its client (and the client's
department) active, and which grants does the client hold now. Those rows change rarely, so
``LiveClients`` reads the registry's change counter (``hub.store.changes``, one indexed row) once
per request and answers from what it kept while the counter has not moved, and a client's grants
only until the next instant one of them starts or ends. Every replica reads the same counter, so a
revocation, a disabled client or department and a revoked or expired grant hold from the next
request on every replica.

Fail closed: when the counter cannot be read, nothing kept is trusted or kept; every read goes to
the registry itself (and fails there if the registry is down).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from hub.store import ClientRecord, Registry
from hub.store.changes import Generation, next_grant_change

log = logging.getLogger("hub.oauth")
MAX_KEPT = 50_000  # token ids or clients kept at most; past it, start again (a counter read refills it)


@dataclass(frozen=True, slots=True)
class _Kept:
    record: ClientRecord | None
    until: int | None  # its grants' next start or end (None: none of them will)


class LiveClients:
    def __init__(self, registry: Registry, engine: AsyncEngine, now: Callable[[], int]) -> None:
        self._registry = registry
        self._engine = engine
        self._generation_now = Generation(engine)
        self._now = now
        self._seen: int | None = None
        self._unrevoked: set[str] = set()
        self._clients: dict[str, _Kept] = {}

    async def read(self, jti: str, client_id: str) -> tuple[bool, ClientRecord | None]:
        """Whether the token id is revoked, and the client as the registry holds it now."""
        current = await self._generation()
        if current is None or current != self._seen or len(self._unrevoked) + len(self._clients) > MAX_KEPT:
            self._unrevoked.clear()
            self._clients.clear()
            self._seen = current
        revoked = await self._revoked(jti, current)
        return revoked, await self._client(client_id, current)

    async def _generation(self) -> int | None:
        try:
            return await self._generation_now.read()
        except Exception:  # noqa: BLE001  fail closed: without the counter, read everything afresh
            log.warning("the registry's change counter could not be read; token checks read the registry")
            return None

    def close(self) -> None:
        self._generation_now.close()

    def _keeps(self, read_at: int | None) -> bool:
        """Whether a read made at counter ``read_at`` may be kept: only while the counter is still the one
        kept things are for. A request that read the counter, then waited on the registry while a change
        landed and another request saw the counter move, must not keep what it read before the change."""
        return read_at is not None and read_at == self._seen

    async def _revoked(self, jti: str, read_at: int | None) -> bool:
        if jti in self._unrevoked:
            return False
        revoked = await self._registry.is_revoked(jti)
        if not revoked and self._keeps(read_at):
            self._unrevoked.add(jti)
        return revoked

    async def _client(self, client_id: str, read_at: int | None) -> ClientRecord | None:
        now = self._now()
        kept = self._clients.get(client_id)
        if kept is not None and (kept.until is None or now < kept.until):
            return kept.record
        until = await next_grant_change(self._engine, client_id, now) if read_at is not None else None
        record = await self._registry.client(client_id)
        if self._keeps(read_at):
            if record is not None:
                record = dataclasses.replace(record, registry_seen=read_at)
            self._clients[client_id] = _Kept(record, until)
        return record
