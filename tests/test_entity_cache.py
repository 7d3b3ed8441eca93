"""One contract for every EntityCache: the in-process LRU and Redis behave alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from hub.data.cache import EntityCache, MemoryEntityCache, RedisEntityCache

RECORD = {"uscc": "91130200699229617X", "name": "唐山钢铁有限公司", "registered_capital": 5000.5, "term_to": None}


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[EntityCache]:
    if request.param == "memory":
        store: EntityCache = MemoryEntityCache(max_entries=100)
    else:
        url = request.getfixturevalue("redis_url")
        store = RedisEntityCache(url, prefix=request.getfixturevalue("redis_prefix"))
    yield store
    await store.clear()
    await store.aclose()


async def test_stored_records_come_back_equal(cache: EntityCache) -> None:
    await cache.set_many("market:enterprise:uscc", {RECORD["uscc"]: [RECORD]}, ttl=60)
    found = await cache.get_many("market:enterprise:uscc", [RECORD["uscc"], "unknown"])
    assert found == {RECORD["uscc"]: [RECORD]}


async def test_known_absence_is_cached_as_an_empty_list(cache: EntityCache) -> None:
    await cache.set_many("market:enterprise:uscc", {"91110000600037341L": []}, ttl=60)
    assert await cache.get_many("market:enterprise:uscc", ["91110000600037341L"]) == {"91110000600037341L": []}


async def test_namespaces_do_not_share_keys(cache: EntityCache) -> None:
    await cache.set_many("market:enterprise:uscc", {"k": [RECORD]}, ttl=60)
    assert await cache.get_many("taxation:tax_registration:uscc", ["k"]) == {}


async def test_entries_expire_after_their_ttl(cache: EntityCache) -> None:
    await cache.set_many("ns:a:b", {"k": [RECORD]}, ttl=0.2)
    assert await cache.get_many("ns:a:b", ["k"])
    await asyncio.sleep(0.35)
    assert await cache.get_many("ns:a:b", ["k"]) == {}


async def test_zero_ttl_stores_nothing(cache: EntityCache) -> None:
    await cache.set_many("ns:a:b", {"k": [RECORD]}, ttl=0)
    assert await cache.get_many("ns:a:b", ["k"]) == {}


async def test_invalidate_drops_only_the_given_keys(cache: EntityCache) -> None:
    await cache.set_many("ns:a:b", {"k1": [RECORD], "k2": [RECORD]}, ttl=60)
    assert await cache.invalidate("ns:a:b", ["k1", "never-stored"]) == 1
    assert await cache.get_many("ns:a:b", ["k1", "k2"]) == {"k2": [RECORD]}


async def test_clear_by_namespace_prefix_leaves_other_connectors(cache: EntityCache) -> None:
    await cache.set_many("market:enterprise:uscc", {"k": [RECORD]}, ttl=60)
    await cache.set_many("market:person:id_number", {"k": [RECORD]}, ttl=60)
    await cache.set_many("housing:construction_permit:number", {"k": [RECORD]}, ttl=60)
    assert await cache.clear("market:") == 2
    assert await cache.get_many("housing:construction_permit:number", ["k"]) == {"k": [RECORD]}


async def test_glob_characters_in_a_prefix_are_literal(cache: EntityCache) -> None:
    await cache.set_many("market:enterprise:uscc", {"k": [RECORD]}, ttl=60)
    assert await cache.clear("*") == 0
    assert await cache.clear("m?rket") == 0
    assert await cache.get_many("market:enterprise:uscc", ["k"]) == {"k": [RECORD]}


async def test_memory_cache_evicts_the_least_recently_used() -> None:
    cache = MemoryEntityCache(max_entries=2)
    await cache.set_many("ns", {"a": [], "b": []}, ttl=60)
    await cache.get_many("ns", ["a"])
    await cache.set_many("ns", {"c": []}, ttl=60)
    assert set(await cache.get_many("ns", ["a", "b", "c"])) == {"a", "c"}
