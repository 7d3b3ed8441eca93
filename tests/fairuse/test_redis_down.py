"""With the counters' Redis unreachable: quotas fail closed (503 ``QUOTA_UNAVAILABLE``, no answer),
rate limits and cost budgets are kept by each replica on its own, and all is shared again once Redis
is back. Redis stands behind a small TCP switch the test turns off and on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from hub.fairuse.counters import DOWN_FOR, RedisCounters
from hub.fairuse.limits import ClientLimits
from tests.fairuse.conftest import FairHub, OpenFairHub
from tests.fairuse.test_edge_limits import refused, unique

PAGE = "query($n: Int!) { enterprises(first: $n) { edges { node { uscc } } } }"
SCOPE = "market.enterprise:read"


class Switch:
    """A TCP forwarder to Redis: off, it drops every connection it has and refuses new ones."""

    def __init__(self, target_port: int) -> None:
        self.up = True
        self.target_port = target_port
        self.port = 0
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def off(self) -> None:
        self.up = False
        for writer in list(self._writers):
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.close()
            return
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers |= {writer, upstream_writer}
        await asyncio.gather(self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
            self._writers.discard(writer)

    async def stop(self) -> None:
        self.off()
        if self._server is not None:
            self._server.close()


@asynccontextmanager
async def hub_behind_switch(fair_hub: OpenFairHub, redis_url: str, prefix: str) -> AsyncIterator[tuple[FairHub, Switch]]:
    switch = Switch(int(redis_url.rsplit(":", 1)[1].split("/")[0]))
    await switch.start()
    async with fair_hub() as hub:
        await hub.hub.fair_use.counters.aclose()
        hub.hub.fair_use.counters = RedisCounters(f"redis://127.0.0.1:{switch.port}/0", prefix=prefix)
        try:
            yield hub, switch
        finally:
            await switch.stop()


async def test_without_redis_a_quota_is_refused_with_503_before_anything_runs(
    fair_hub: OpenFairHub, redis_url: str, redis_prefix: str
) -> None:
    async with hub_behind_switch(fair_hub, redis_url, redis_prefix) as (hub, switch):
        client = hub.client(unique(), quotas={SCOPE: 100})
        assert (await hub.send(client, PAGE, {"n": 2})).status_code == 200
        switch.off()
        response = await hub.send(client, PAGE, {"n": 2})
        error = refused(response, 503, "QUOTA_UNAVAILABLE")
        assert response.headers["retry-after"] == "1"
        assert "cannot be counted" in error["message"]
        assert hub.refusals(client, "unavailable") == 1


async def test_without_redis_each_replica_keeps_the_rate_limit_on_its_own_and_says_so_once(
    fair_hub: OpenFairHub, redis_url: str, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with hub_behind_switch(fair_hub, redis_url, redis_prefix) as (hub, switch):
        client = hub.client(unique(), ClientLimits(rate=0.01, burst=2))
        switch.off()
        with caplog.at_level(logging.WARNING, logger="hub.fairuse"):
            statuses = [(await hub.send(client, PAGE, {"n": 1})).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1
        assert "unreachable" in caplog.records[0].message
        assert hub.hub.metrics.value("hub_fair_use_local_admissions_total") == 3


async def test_once_redis_is_back_quotas_answer_again_and_limits_are_shared_again(
    fair_hub: OpenFairHub, redis_url: str, redis_prefix: str
) -> None:
    async with hub_behind_switch(fair_hub, redis_url, redis_prefix) as (hub, switch):
        client = hub.client(unique(), ClientLimits(rate=0.01, burst=3), quotas={SCOPE: 100})
        assert (await hub.send(client, PAGE, {"n": 1})).status_code == 200  # a token from the shared bucket
        switch.off()
        refused(await hub.send(client, PAGE, {"n": 1}), 503, "QUOTA_UNAVAILABLE")
        switch.up = True
        await asyncio.sleep(DOWN_FOR)
        statuses = [(await hub.send(client, PAGE, {"n": 1})).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]  # the shared bucket: 3 - 1 taken before the outage
