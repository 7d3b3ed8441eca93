"""Fault injection: the hub's own dependencies (PostgreSQL, Redis) behind ``FaultyProxy``.

``registry`` is a production hub in-process whose registry (and audit) database is a PostgreSQL
database of the test's own, reached through a proxy the test can make refuse, drop or freeze.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from hub.client import new_client_key
from hub.oauth.replay import IssuedBeforeEpoch
from tests.conftest import RUN_ID, postgres_database
from tests.faults.proxy import FaultyProxy, proxied
from tests.oauth.conftest import RESOURCE, OAuthHub, Session, open_oauth_hub, production_settings, proof


@pytest.fixture
async def hub_database(postgres_url: str) -> AsyncIterator[str]:
    async with postgres_database(postgres_url, f"hub_faults_{RUN_ID}_{uuid.uuid4().hex[:6]}") as url:
        yield url


@pytest.fixture
def database_proxy(hub_database: str) -> Iterator[FaultyProxy]:
    with proxied("127.0.0.1", 5432) as proxy:
        yield proxy


@dataclass
class ProxiedHub:
    """A hub whose registry is reached through ``proxy``, and a client holding a token."""

    oauth: OAuthHub
    proxy: FaultyProxy
    session: Session

    async def graphql(self, **headers: str) -> Any:
        return await self.oauth.graphql(self.session.token, self.session.dpop_key, **headers)


@pytest.fixture
async def proxied_hub(
    hub_database: str, database_proxy: FaultyProxy, demo_data_dir: Path, tmp_path: Path
) -> AsyncIterator[ProxiedHub]:
    settings = production_settings(database_proxy.url(hub_database), demo_data_dir, database_timeout=1.0)
    async with open_oauth_hub(settings) as oauth:
        client = await oauth.register()
        dpop_key = new_client_key()
        session = Session(client, dpop_key, await oauth.token(client, dpop_key))
        yield ProxiedHub(oauth, database_proxy, session)


@pytest.fixture
def redis_proxy(redis_url: str) -> Iterator[FaultyProxy]:
    with proxied("127.0.0.1", 6379) as proxy:
        yield proxy


@dataclass
class ReplayHub:
    """A hub (registry on SQLite) whose DPoP replay cache is a Redis reached through ``proxy``."""

    oauth: OAuthHub
    proxy: FaultyProxy
    session: Session
    redis_url: str
    prefix: str

    async def graphql(self, dpop: str | None = None) -> Any:
        headers = {"DPoP": dpop} if dpop is not None else {}
        return await self.oauth.graphql(self.session.token, self.session.dpop_key, **headers)

    def proof(self) -> str:
        return proof(self.session.dpop_key, "POST", RESOURCE, self.session.token)

    def forget_everything(self) -> None:
        """What a Redis restarted without its data shows: none of this hub's keys left."""
        client = redis.Redis.from_url(self.redis_url)
        try:
            keys = list(client.scan_iter(match=self.prefix + "*"))
            if keys:
                client.delete(*keys)
        finally:
            client.close()


@pytest.fixture
async def replay_hub(
    redis_proxy: FaultyProxy, redis_url: str, redis_prefix: str, demo_data_dir: Path, tmp_path: Path,
) -> AsyncIterator[ReplayHub]:
    settings = production_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}", demo_data_dir, single_process=False,
        replay_cache_url=redis_proxy.url(redis_url), replay_cache_prefix=redis_prefix, redis_timeout=0.5,
    )
    async with open_oauth_hub(settings) as oauth:
        client = await oauth.register()
        with contextlib.suppress(IssuedBeforeEpoch):  # the store's first epoch begins now ...
            await oauth.server.parts.replay.first_use("epoch", 1, 0)
        await asyncio.sleep(1.0)  # ... and proofs of the next second pass
        dpop_key = new_client_key()
        session = Session(client, dpop_key, await oauth.token(client, dpop_key))
        yield ReplayHub(oauth, redis_proxy, session, redis_url, redis_prefix)
