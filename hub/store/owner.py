"""The registry, grants and audit database's one owner (``Database``), opened once per process."""

from __future__ import annotations

import asyncio

from hub.settings import Settings
from hub.store.database import connect, exclusive, migrate
from hub.store.revision import require_migrated
from hub.store.sealing import Sealer
from hub.store.signing_keys import SigningKeys, retention_for

PREPARE_TIMEOUT = 60.0  # seconds: development's migrations at start, and waiting for another replica's


class Database:
    """The registry, grants and audit database of one hub process, and its only owner.

    Built with the app (an engine touches no database until it is used) and handed to everything
    that keeps state in it: the authorization server, the audit store, the console, the grant
    service, the gateways' registry. ``open`` prepares it once: development migrates it to head,
    production checks that ``hub migrate`` did (``hub.store.revision``); either way the first
    signing keys are made if there are none. The app's lifespan opens it; an app driven without
    its lifespan (in-process tests) opens it at its first request. A database not reachable yet is
    not fatal: ``open`` raises, ``/readyz`` says so, and the next request tries again.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sealer = Sealer.from_settings(settings)
        # Serving: every call bounded by database_timeout (a hanging database is a 503, hub.faults).
        self.engine = connect(settings.registry_url, timeout=settings.database_timeout)
        self._opened = False
        self._lock = asyncio.Lock()

    @property
    def opened(self) -> bool:
        return self._opened

    async def open(self) -> None:
        if self._opened:
            return
        async with self._lock:
            if not self._opened:
                await self._prepare()
                self._opened = True

    async def _prepare(self) -> None:
        """Migrations checked (or run) and the first signing keys made, on an engine of its own: a
        migration, or waiting for another replica's, may take longer than a request's timeout."""
        settings = self.settings
        timeout = PREPARE_TIMEOUT if settings.migrates_at_start else settings.database_timeout
        engine = connect(settings.registry_url, timeout=max(settings.database_timeout, timeout))
        keys = SigningKeys(engine, self.sealer, retention=retention_for(settings.access_token_minutes))
        try:
            if not settings.migrates_at_start:
                await require_migrated(engine)  # production: `hub migrate` did it, or nothing serves
            async with exclusive(engine):  # replicas starting together on a fresh database take turns
                if settings.migrates_at_start:
                    await migrate(engine)
                await keys.ensure()
        finally:
            await engine.dispose()

    async def aclose(self) -> None:
        await self.engine.dispose()
