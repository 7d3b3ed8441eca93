"""The sources' health shared through Redis: every replica's health page shows every replica's calls.

Two replicas here are two ``SourceHealth`` measuring their own calls over one real Redis, then two
whole app instances (one registry, one Redis) whose console pages show the same; when Redis does
not answer, a page shows its replica's own calls and says so.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.applications import Starlette

from hub.accounts.store import Accounts
from hub.app import create_app
from hub.settings import SettingsError, load_settings
from hub.source_health import SourceHealth, probe
from hub.source_health_shared import SharedHealth, bound, bucket
from hub.store.sealing import new_key_encryption_key
from tests.admin.conftest import ORIGIN, PASSWORD, Console, Person, sqlite_url

SOURCES = {"market": "market", "ecology": "ecology"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def replicas(redis_url: str, redis_prefix: str) -> AsyncIterator[tuple[SourceHealth, SourceHealth, Clock]]:
    clock = Clock()
    one, two = (SourceHealth(SOURCES, slow_after=0.5, clock=clock) for _ in range(2))
    for health in (one, two):
        health.share(SharedHealth(redis_url, redis_prefix))
    yield one, two, clock
    for health in (one, two):
        await health.shared.aclose()  # type: ignore[union-attr]


async def test_two_replicas_show_the_same_calls_errors_cache_and_last_failure(
    replicas: tuple[SourceHealth, SourceHealth, Clock],
) -> None:
    one, two, clock = replicas
    for ms in range(10, 101, 10):
        one.called("market", ms / 1000)
    clock.now += 1
    for ms in range(110, 201, 10):
        two.called("market", ms / 1000)
    two.called("market", 0.3, "provider", "market: provider failed: 503")
    one.cached("market", 3, 1)
    two.cached("market", 1, 3)
    await two.flush()  # what its background task does every two seconds
    [_, seen_by_one], everyones = await one.current()  # sorted: ecology, market
    [_, seen_by_two], _ = await two.current()
    assert everyones and seen_by_one == seen_by_two
    assert seen_by_one.calls == 21 and seen_by_one.error_rate == pytest.approx(1 / 21)
    assert seen_by_one.cache_hit_rate == 0.5
    assert seen_by_one.last_failure is not None and seen_by_one.last_failure.reason == "market: provider failed: 503"
    # Nearest rank of 21 calls (10..200 ms and 300 ms): the 11th is 110 ms, the 20th 200 ms; each
    # shown as its bucket's upper bound, at most 9% above.
    assert 0.110 <= seen_by_one.p50 < 0.110 * 1.091  # type: ignore[operator]
    assert 0.200 <= seen_by_one.p95 < 0.200 * 1.091  # type: ignore[operator]
    assert one.report("market").calls == 10  # each still measures only its own calls
    assert seen_by_one.state == "up"


async def test_a_source_is_down_when_the_last_calls_of_all_replicas_failed(
    replicas: tuple[SourceHealth, SourceHealth, Clock],
) -> None:
    one, two, clock = replicas
    one.called("ecology", 0.01)
    clock.now += 1
    one.called("ecology", 2.0, "provider", "timeout")
    clock.now += 1
    two.called("ecology", 2.0, "provider", "timeout")
    clock.now += 1
    one.called("ecology", 2.0, "hub", "ecology: hub failed: bug")
    await two.flush()
    assert one.report("ecology").state == "up"  # its own last three: one answered
    [ecology, _], _ = await one.current()
    assert ecology.state == "down" and ecology.last_failure.side == "hub"  # type: ignore[union-attr]
    [again, _], _ = await two.current()
    assert again == ecology
    clock.now += 1
    two.called("ecology", 0.02)
    await two.flush()
    [back, _], _ = await one.current()
    assert back.state == "up"


async def test_a_source_slow_on_another_replica_is_slow_everywhere(
    replicas: tuple[SourceHealth, SourceHealth, Clock],
) -> None:
    one, two, _ = replicas
    for _ in range(20):
        two.called("market", 0.9)
    one.called("market", 0.01)
    await two.flush()
    [ecology, market], _ = await one.current()
    assert (market.state, ecology.state) == ("slow", "unknown")


async def test_calls_older_than_an_hour_are_left_out(replicas: tuple[SourceHealth, SourceHealth, Clock]) -> None:
    one, two, clock = replicas
    one.called("market", 5.0, "provider", "old")
    await one.flush()
    clock.now += 3600 + 61
    two.called("market", 0.05)
    [_, market], _ = await two.current()
    assert market.calls == 1 and market.error_rate == 0.0 and market.p99 is not None and market.p99 < 0.06


async def test_when_redis_does_not_answer_a_replica_shows_its_own_calls_and_keeps_them_for_later() -> None:
    health = SourceHealth(SOURCES, slow_after=0.5)
    health.share(SharedHealth("redis://127.0.0.1:1/0", timeout=0.2))
    health.called("market", 0.01)
    [_, market], everyones = await health.current()
    assert not everyones and market.calls == 1
    assert len(health._pending) == 1  # kept for the next flush
    await health.shared.aclose()  # type: ignore[union-attr]


def test_latency_buckets_are_nine_percent_wide() -> None:
    for seconds in (0.00005, 0.0001, 0.00123, 0.05, 0.5, 1.0, 30.0):
        k = bucket(seconds)
        assert bound(k) >= seconds and (k == 0 or bound(k - 1) < seconds)
        assert bound(k) <= max(seconds, 0.0001) * 2 ** (1 / 8) + 1e-12
    assert bucket(10_000.0) == bucket(1_000_000.0)  # the last bucket holds everything slower


def test_the_settings_choose_the_shared_store(redis_url: str) -> None:
    assert load_settings(environment="development").source_health_store_url is None
    assert load_settings(environment="development", cache_url=redis_url).source_health_store_url == redis_url
    assert load_settings(environment="development", cache_url=redis_url,
                         source_health_url="memory").source_health_store_url is None
    borrowed = load_settings(environment="development", cache_url=redis_url, cache_prefix="hub:cache:test:")
    assert borrowed.source_health_key_prefix == "hub:cache:test:health:"  # a test's own keys stay its own
    assert load_settings(environment="development", source_health_prefix="x:").source_health_key_prefix == "x:"
    with pytest.raises(SettingsError, match="HUB_SOURCE_HEALTH_URL"):
        load_settings(environment="development", source_health_url="http://redis.example")


@dataclass
class Replica:
    app: Starlette

    def operator(self) -> Person:
        return Console(self.app, None, None, "", "").person("en")  # type: ignore[arg-type]


@pytest.fixture
async def two_apps(tmp_path: Path, demo_data_dir: Path, redis_url: str, redis_prefix: str) -> AsyncIterator[list[Replica]]:
    settings = load_settings(
        environment="production", issuer=ORIGIN, database_url=sqlite_url(tmp_path), demo_data_dir=demo_data_dir,
        key_encryption_key=new_key_encryption_key(), replay_cache_url=redis_url,
        replay_cache_prefix=redis_prefix + "replay:", fair_use_prefix=redis_prefix + "fair:",
        source_health_prefix=redis_prefix + "health:",
    )
    apps = [create_app(settings), create_app(settings)]
    await apps[0].state.hub.database.open()  # as the lifespan would, before the fixture writes to the registry
    parts = apps[0].state.hub.oauth.parts
    await parts.registry.add_department("market", "Market Regulation")
    await Accounts(parts.engine).create("olga", "Olga Operator", "operator", PASSWORD, None)
    try:
        yield [Replica(app) for app in apps]
    finally:
        for app in apps:
            await app.state.hub.aclose()


def row(page: str, source: str) -> str:
    return page.split(f'id="source-{source}"')[1].split("</tr>")[0]


async def test_two_app_instances_sharing_redis_show_the_same_health_page(two_apps: list[Replica]) -> None:
    first, second = (replica.app.state.hub for replica in two_apps)
    assert first.sources.health.shared is not None  # the replay cache's Redis
    for ms in (10, 20, 30):
        first.sources.health.called("market", ms / 1000)
    await probe(first.sources.health, first.sources.connectors["market"])  # a real call to the demo source
    second.sources.health.called("ecology", 1.5, "provider", "ecology: provider failed: connection refused")
    await second.sources.health.flush()  # what each replica's background task does every two seconds
    pages = []
    for replica in two_apps:
        olga = replica.operator()
        assert (await olga.sign_in("olga", PASSWORD)).status_code == 303
        switched = await olga.form("/admin/language", {"language": "en", "next": "/admin/"})
        assert switched.status_code == 303
        page = (await olga.http.get("/admin/health")).text
        pages.append({source: re.sub(r"\s+", " ", row(page, source)) for source in ("market", "ecology")})
        assert "Every replica" in page and "own calls only" not in page
    assert pages[0] == pages[1]
    assert "state-up" in pages[0]["market"] and '<td class="number">3</td>' in pages[0]["market"]
    assert "connection refused" in pages[0]["ecology"] and "side-provider" in pages[0]["ecology"]


async def test_calls_waiting_for_redis_keep_their_order_and_the_latest_when_too_many(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import hub.source_health as source_health
    from redis.exceptions import ConnectionError as RedisConnectionError

    monkeypatch.setattr(source_health, "MAX_PENDING", 3)
    clock = Clock()
    health = SourceHealth(SOURCES, clock=clock)

    class Unanswered:
        async def flush(self, *_: object) -> None:
            health.called("market", 0.09)  # a call made while the flush waits for Redis
            raise RedisConnectionError("no answer")

    health.share(Unanswered())  # type: ignore[arg-type]
    for n in range(3):
        health.called("market", n / 100)
    with pytest.raises(RedisConnectionError):
        await health.flush()
    assert [call.seconds for _, call in health._pending] == [0.01, 0.02, 0.09]
