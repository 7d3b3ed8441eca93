"""Disclosure quotas at the edge: counted from what answers disclosed, per scope and day; an answer
that would pass one is refused whole (429, ``FORBIDDEN`` with ``reason: "quota"``), and neither
counted nor recorded as disclosed."""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from hub.audit import who_accessed
from hub.audit.records import PERSON, Pseudonyms
from hub.audit.subjects import Disclosed
from hub.demo.ids import uscc
from hub.fairuse.counters import RedisCounters
from hub.fairuse.quotas import shown_under
from hub.identifiers.id_number import id_check_char
from tests.fairuse.conftest import FairHub, OpenFairHub
from tests.fairuse.test_edge_limits import refused, unique

SCOPE = "market.enterprise:read"
PAGE = "query($n: Int!) { enterprises(first: $n) { edges { node { uscc name } } } }"
MATTERS = "{ serviceMatters { code } }"


@asynccontextmanager
async def shared_hub(fair_hub: OpenFairHub, redis_url: str, redis_prefix: str) -> AsyncIterator[FairHub]:
    async with fair_hub(fair_use_url=redis_url) as hub:
        await hub.hub.fair_use.counters.aclose()
        hub.hub.fair_use.counters = RedisCounters(redis_url, prefix=redis_prefix)
        yield hub


def first_usccs(hub: FairHub, n: int) -> list[str]:
    with sqlite3.connect(hub.hub.settings.demo_data_dir / "market.sqlite") as conn:
        return [r[0] for r in conn.execute("SELECT uscc FROM enterprises ORDER BY uscc LIMIT ?", (n,))]


async def test_a_quota_admits_distinct_subjects_up_to_it_and_refuses_the_answer_that_would_pass_it(
    fair_hub: OpenFairHub, redis_url: str, redis_prefix: str
) -> None:
    async with shared_hub(fair_hub, redis_url, redis_prefix) as hub:
        client = hub.client(unique(), quotas={SCOPE: 5})
        for _ in range(2):  # the same three enterprises twice: three subjects shown today
            assert (await hub.send(client, PAGE, {"n": 3})).status_code == 200
        response = await hub.send(client, PAGE, {"n": 6})
        error = refused(response, 429, "FORBIDDEN")
        assert error["extensions"] | {"requestId": None} == {
            "code": "FORBIDDEN", "reason": "quota", "scope": SCOPE, "quota": 5, "used": 3, "asked": 3,
            "resetsAt": "2027-01-15T16:00:00Z", "requestId": None,
        }
        assert response.headers["retry-after"] == str(8 * 3600)
        sixth = first_usccs(hub, 6)[5]
        store = hub.hub.disclosures.store
        assert [a for a in await who_accessed(store, sixth) if a.client_id == client] == []
        assert (await hub.send(client, PAGE, {"n": 5})).status_code == 200  # exactly at the quota
        refused(await hub.send(client, PAGE, {"n": 6}), 429, "FORBIDDEN")
        assert hub.refusals(client, "quota") == 2


async def test_the_quota_refills_at_the_city_s_midnight(
    fair_hub: OpenFairHub, redis_url: str, redis_prefix: str
) -> None:
    async with shared_hub(fair_hub, redis_url, redis_prefix) as hub:
        client = hub.client(unique(), quotas={SCOPE: 2})
        assert (await hub.send(client, PAGE, {"n": 2})).status_code == 200
        refused(await hub.send(client, PAGE, {"n": 3}), 429, "FORBIDDEN")
        hub.now = 1_800_000_000.0 + 8 * 3600 - 1  # 23:59:59 in the city
        refused(await hub.send(client, PAGE, {"n": 3}), 429, "FORBIDDEN")
        hub.now += 1
        assert (await hub.send(client, PAGE, {"n": 2})).status_code == 200


async def test_answers_about_nobody_and_scopes_without_a_quota_are_not_counted(
    fair_hub: OpenFairHub, redis_url: str, redis_prefix: str
) -> None:
    async with shared_hub(fair_hub, redis_url, redis_prefix) as hub:
        client = hub.client(unique(), quotas={"security.identity:read": 1})
        assert (await hub.send(client, MATTERS)).status_code == 200
        assert (await hub.send(client, PAGE, {"n": 20})).status_code == 200
        usage = await hub.hub.fair_use.usage(client, hub.hub.fair_use.settings.defaults, {"security.identity:read": 1})
        assert usage is not None and usage.subjects_today == {"security.identity:read": 0}


async def test_quotas_count_on_the_subgraph_endpoints_too(
    fair_hub: OpenFairHub, redis_url: str, redis_prefix: str
) -> None:
    async with shared_hub(fair_hub, redis_url, redis_prefix) as hub:
        client = hub.client(unique(), quotas={SCOPE: 2})
        assert (await hub.send(client, PAGE, {"n": 2})).status_code == 200
        uscc = first_usccs(hub, 3)[2]
        query = {"query": "query($r: [_Any!]!) { _entities(representations: $r) { ... on Enterprise { uscc name } } }",
                 "variables": {"r": [{"__typename": "Enterprise", "uscc": uscc}]}}
        response = await hub.http.post(
            "/subgraphs/market/graphql", json=query,
            headers={"accept": "application/graphql-response+json", "x-test-client": client},
        )
        refused(response, 429, "FORBIDDEN")


async def test_fields_shown_through_a_union_fragment_count_toward_the_quota(
    fair_hub: OpenFairHub, redis_url: str, redis_prefix: str
) -> None:
    # A subgraph's `_Entity` union holds Enterprise: what a fragment on it shows is shown all the same.
    async with shared_hub(fair_hub, redis_url, redis_prefix) as hub:
        client = hub.client(unique(), quotas={SCOPE: 2})
        assert (await hub.send(client, PAGE, {"n": 2})).status_code == 200
        uscc = first_usccs(hub, 3)[2]
        query = {"query": "query($r: [_Any!]!) { _entities(representations: $r) "
                          "{ ... on _Entity { ... on Enterprise { name } } } }",
                 "variables": {"r": [{"__typename": "Enterprise", "uscc": uscc}]}}
        response = await hub.http.post(
            "/subgraphs/market/graphql", json=query,
            headers={"accept": "application/graphql-response+json", "x-test-client": client},
        )
        refused(response, 429, "FORBIDDEN")


async def test_cursors_count_toward_the_quota_as_the_keys_they_carry(
    fair_hub: OpenFairHub, redis_url: str, redis_prefix: str
) -> None:
    # An edge's cursor encodes its enterprise's USCC: a page of cursors shows that many enterprises.
    async with shared_hub(fair_hub, redis_url, redis_prefix) as hub:
        client = hub.client(unique(), quotas={SCOPE: 2})
        assert (await hub.send(client, "{ enterprises(first: 2) { edges { cursor } } }")).status_code == 200
        refused(await hub.send(client, "{ enterprises(first: 3) { edges { cursor } } }"), 429, "FORBIDDEN")


async def test_a_pages_start_and_end_cursors_count_toward_the_quota(
    fair_hub: OpenFairHub, redis_url: str, redis_prefix: str
) -> None:
    # pageInfo's cursors carry the first and the last listed enterprise's USCC.
    async with shared_hub(fair_hub, redis_url, redis_prefix) as hub:
        client = hub.client(unique(), quotas={SCOPE: 2})
        walk = "query($a: String) { enterprises(first: 1, after: $a) { pageInfo { endCursor } } }"
        after = None
        for _ in range(2):
            response = await hub.send(client, walk, {"a": after})
            assert response.status_code == 200, response.text
            after = response.json()["data"]["enterprises"]["pageInfo"]["endCursor"]
        refused(await hub.send(client, walk, {"a": after}), 429, "FORBIDDEN")


class CountingPseudonyms(Pseudonyms):
    def __init__(self, key: bytes) -> None:
        super().__init__(key)
        self.hashed: list[str] = []

    def person(self, id_number: str) -> str:
        self.hashed.append(id_number)
        return super().person(id_number)


def test_a_person_is_hashed_once_a_request_for_the_quota_and_the_audit_record_alike() -> None:
    scopes_of = {"Person.name": ("market.person:read", None), "Enterprise.name": (SCOPE, None)}
    quotas = {"market.person:read": 10, SCOPE: 10}
    people = [person_id(1), person_id(2)]
    disclosed = Disclosed()
    shown = disclosed.field_set({"Person.name": "allow"})
    for id_number in (*people, "110105199001011234"):  # the last one's check character is wrong
        disclosed.add((PERSON, id_number), shown)
    disclosed.add((PERSON, people[0]), disclosed.field_set({"Person.name": "mask"}))
    disclosed.add(("enterprise", first_uscc()), disclosed.field_set({"Enterprise.name": "allow"}))
    pseudonyms = CountingPseudonyms(b"q" * 32)

    counted = shown_under(disclosed, scopes_of, quotas, pseudonyms)
    recorded = {ref for group in disclosed.groups(pseudonyms) for ref in group.subjects}

    assert sorted(pseudonyms.hashed) == sorted([*people, "110105199001011234"])  # each once, for both
    keyed = {hmac.new(b"q" * 32, p.encode(), hashlib.sha256).hexdigest() for p in people}
    assert counted["market.person:read"] == {f"person:{digest}" for digest in keyed}  # HMAC-SHA256 under the key
    assert counted == {"market.person:read": {pseudonyms.person(p) for p in people}, SCOPE: {f"enterprise:{first_uscc()}"}}
    assert counted["market.person:read"] < recorded  # the same hashes, and the malformed one in neither
    other = CountingPseudonyms(b"r" * 32)  # another key: worked out again, never the first key's hashes
    assert shown_under(disclosed, scopes_of, quotas, other)["market.person:read"] == {other.person(p) for p in people}


def test_a_person_hashed_for_the_audit_record_is_not_hashed_again_for_a_quota_counted_after_the_answer() -> None:
    scopes_of = {"Person.name": ("market.person:read", None)}
    people = [person_id(1), person_id(2)]
    disclosed = Disclosed()
    shown = disclosed.field_set({"Person.name": "allow"})
    for id_number in (*people, "110105199001011234"):  # the last one's check character is wrong
        disclosed.add((PERSON, id_number), shown)
    pseudonyms = CountingPseudonyms(b"q" * 32)

    recorded = {ref for group in disclosed.groups(pseudonyms) for ref in group.subjects}  # the record, first
    counted = shown_under(disclosed, scopes_of, {"market.person:read": 10}, pseudonyms)  # the count, after

    assert sorted(pseudonyms.hashed) == sorted([*people, "110105199001011234"])  # each once, for both
    assert counted == {"market.person:read": recorded}


def person_id(n: int) -> str:
    first17 = f"11010519900101{n:03d}"
    return first17 + id_check_char(first17)


def first_uscc() -> str:
    return uscc("91", "110105", "000000001")
