"""With the counters' Redis unreachable: quotas fail closed (503 ``QUOTA_UNAVAILABLE``, no answer),
rate limits and cost budgets are kept by each replica on its own, and all is shared again once Redis
is back. Redis stands behind a small TCP switch the test turns off and on, or leaves connected but
silent (a Redis that hangs)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from hub.audit import who_accessed
from hub.fairuse.counters import DOWN_FOR, Admission, RedisCounters
from hub.fairuse.limits import ClientLimits
from tests.fairuse.conftest import FairHub, OpenFairHub
from tests.fairuse.test_edge_limits import refused, unique
from tests.fairuse.test_quotas import first_usccs

PAGE = "query($n: Int!) { enterprises(first: $n) { edges { node { uscc } } } }"
SCOPE = "market.enterprise:read"


class Switch:
    """A TCP forwarder to Redis: off, it drops every connection it has and refuses new ones."""

    def __init__(self, target_port: int) -> None:
        self.up = True
        self.silent = False  # connections stay open, nothing is passed on: a Redis that hangs
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
                if self.silent:
                    continue
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
async def hub_behind_switch(
    fair_hub: OpenFairHub, redis_url: str, prefix: str, timeout: float = 1.0,
) -> AsyncIterator[tuple[FairHub, Switch]]:
    switch = Switch(int(redis_url.rsplit(":", 1)[1].split("/")[0]))
    await switch.start()
    async with fair_hub() as hub:
        await hub.hub.fair_use.counters.aclose()
        hub.hub.fair_use.counters = RedisCounters(f"redis://127.0.0.1:{switch.port}/0", prefix=prefix, timeout=timeout)
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


async def test_a_redis_that_hangs_is_given_up_after_the_timeout_quotas_refused_and_rate_limits_kept_locally(
    fair_hub: OpenFairHub, redis_url: str, redis_prefix: str
) -> None:
    async with hub_behind_switch(fair_hub, redis_url, redis_prefix, timeout=0.3) as (hub, switch):
        quota = hub.client(unique(), quotas={SCOPE: 100})
        plain = hub.client(unique(), ClientLimits(rate=0.01, burst=1))
        assert (await hub.send(quota, PAGE, {"n": 1})).status_code == 200
        switch.silent = True
        response = await asyncio.wait_for(hub.send(quota, PAGE, {"n": 1}), 10)  # bounded: never a hang
        refused(response, 503, "QUOTA_UNAVAILABLE")
        statuses = [(await asyncio.wait_for(hub.send(plain, PAGE, {"n": 1}), 10)).status_code for _ in range(2)]
        assert statuses == [200, 429]  # this replica's own bucket
        assert hub.hub.metrics.value("hub_fair_use_local_admissions_total") == 2


async def test_redis_lost_after_an_answer_past_its_reservation_refuses_it_and_records_nothing(
    fair_hub: OpenFairHub, redis_url: str, redis_prefix: str
) -> None:
    async with hub_behind_switch(fair_hub, redis_url, redis_prefix) as (hub, switch):
        client = hub.client(unique(), quotas={SCOPE: 2})
        assert (await hub.send(client, PAGE, {"n": 1})).status_code == 200  # the first enterprise: 1 of 2
        await hub.hub.fair_use.settled()
        counters = hub.hub.fair_use.counters
        admit = counters.admit

        async def admit_then_lose_redis(*args: Any, **kwargs: Any) -> Admission:
            admitted = await admit(*args, **kwargs)
            switch.off()  # the check passed; the count after the operation finds Redis gone
            return admitted

        counters.admit = admit_then_lose_redis  # type: ignore[method-assign]
        # A page of two with room for one: one reserved, two shown, so the count is exact, on the path.
        refused(await hub.send(client, PAGE, {"n": 2}), 503, "QUOTA_UNAVAILABLE")
        first, second = first_usccs(hub, 2)
        store = hub.hub.disclosures.store
        assert [a for a in await who_accessed(store, second) if a.client_id == client] == []
        assert [a.client_id for a in await who_accessed(store, first)].count(client) == 1
        assert hub.refusals(client, "unavailable") == 1


async def test_redis_lost_after_an_answer_within_its_reservation_gives_it_and_keeps_its_room_held(
    fair_hub: OpenFairHub, redis_url: str, redis_prefix: str
) -> None:
    async with hub_behind_switch(fair_hub, redis_url, redis_prefix) as (hub, switch):
        counters = hub.hub.fair_use.counters
        admit = counters.admit

        async def admit_then_lose_redis(*args: Any, **kwargs: Any) -> Admission:
            admitted = await admit(*args, **kwargs)
            switch.off()  # the answer fits what was reserved: it goes; its count, sent after, is lost
            return admitted

        counters.admit = admit_then_lose_redis  # type: ignore[method-assign]
        client = hub.client(unique(), quotas={SCOPE: 100})
        response = await hub.send(client, PAGE, {"n": 1})
        assert response.status_code == 200, response.text
        await hub.hub.fair_use.settled()
        uscc = first_usccs(hub, 1)[0]
        assert [a.client_id for a in await who_accessed(hub.hub.disclosures.store, uscc)].count(client) == 1
        assert hub.hub.metrics.value("hub_fair_use_unsettled_total") == 1
        direct = RedisCounters(redis_url, prefix=redis_prefix)
        try:
            fair_use = hub.hub.fair_use
            usage = await direct.usage(client, fair_use.settings.defaults, hub.now, fair_use.day(hub.now), (SCOPE,))
        finally:
            await direct.aclose()
        assert (usage.subjects_today[SCOPE], usage.held[SCOPE]) == (0, 1)  # still counted: as held, for the day
