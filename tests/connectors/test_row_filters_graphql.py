"""Jurisdiction row filters on a GraphQL source: a filter argument the binding declares goes to
the service as a variable; without one, the hub filters the key lookup's answer itself.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx
import pytest

from connectors import Binding, Condition, Page
from connectors.registry import connector_of_kind
from hub.demo.services import RunningService
from hub.data.sources import Sources
from tests.connectors.row_filtering import filtered, sources_over
from tests.connectors.subjects import CountingTransport, read_rows

def population(demo_data_dir: Path) -> list[dict[str, Any]]:
    return read_rows(demo_data_dir / "security.sqlite", "population")


def graphql_sources(binding: Binding, url: str) -> tuple[Sources, CountingTransport]:
    transport = CountingTransport()
    return sources_over(connector_of_kind(binding.with_source(url=url), transport)), transport


@pytest.fixture
def persons(demo_data_dir: Path) -> tuple[list[str], list[str]]:
    """Forty identity numbers, the commonest address code among them, and the numbers with it."""
    rows = sorted(population(demo_data_dir), key=lambda row: row["id_number"])[:40]
    codes = [row["address_code"] for row in rows]
    prefix = max(set(codes), key=codes.count)
    inside = [row["id_number"] for row in rows if row["address_code"] == prefix]
    assert 0 < len(inside) < len(rows)
    return [row["id_number"] for row in rows], [prefix, *inside]


async def test_a_graphql_source_takes_the_row_filter_as_a_declared_argument_variable(
    security_service: RunningService, bindings: dict[str, Binding], persons: tuple[list[str], list[str]]
) -> None:
    keys, (prefix, *inside) = persons
    sources, transport = graphql_sources(bindings["security"], security_service.url + "/graphql")
    lookup = [Condition("id_number", "in", keys)]
    row_filter = Condition("address_code", "prefix", prefix)
    page = await sources.select("security", "identity_record", lookup, Page("id_number", 100), row_filter)
    await sources.aclose()
    assert [record["id_number"] for record in page] == inside
    assert len(transport.requests) == 1
    body = json.loads(transport.requests[0].content)
    assert body["variables"]["f_addressPrefix"] == prefix
    assert prefix not in body["query"] and "addressPrefix: $f_addressPrefix" in body["query"]
    assert filtered(sources, "security", "pushed") == 1


async def test_a_graphql_binding_without_the_argument_filters_after_the_lookup(
    security_service: RunningService, bindings: dict[str, Binding], persons: tuple[list[str], list[str]]
) -> None:
    keys, (prefix, *inside) = persons
    entity = replace(bindings["security"].entities["identity_record"], filters=MappingProxyType({}))
    binding = replace(bindings["security"], entities=MappingProxyType({"identity_record": entity}))
    sources, transport = graphql_sources(binding, security_service.url + "/graphql")
    lookup = [Condition("id_number", "in", keys)]
    row_filter = Condition("address_code", "prefix", prefix)
    first = await sources.select("security", "identity_record", lookup, Page("id_number", 2), row_filter)
    rest = await sources.select(
        "security", "identity_record", lookup, Page("id_number", 100, first[-1]["id_number"]), row_filter
    )
    await sources.aclose()
    assert [record["id_number"] for record in [*first, *rest]] == inside
    assert all("addressPrefix" not in json.loads(request.content)["query"] for request in transport.requests)
    assert filtered(sources, "security", "post") == 2 and filtered(sources, "security", "pushed") == 0


async def test_the_security_service_refuses_an_address_prefix_longer_than_a_code(
    security_service: RunningService, persons: tuple[list[str], list[str]]
) -> None:
    keys, _ = persons
    query = "query($ids: [String!]!, $p: String) { persons(idNumbers: $ids, addressPrefix: $p) { idNumber } }"
    async with httpx.AsyncClient(base_url=security_service.url) as client:
        refused, literal = [
            (await client.post("/graphql", json={"query": query, "variables": {"ids": keys, "p": p}})).json()
            for p in ("1" * 7, "1_%")
        ]
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "addressPrefix is at most 6 characters" in refused["errors"][0]["message"]
    assert literal == {"data": {"persons": []}}
