"""Review: the disclosure record says what the answer carried, no more and no less."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hub.audit import who_accessed
from schema.pagination import decode_cursor
from tests.graph.conftest import DepartmentServices, HubClient, hub_settings, open_hub
from tests.policy.test_applied import CALLERS, ENTERPRISE, FINANCE, ask, caller, caller_named_in_header


@pytest.fixture
async def hub(demo_data_dir: Path, services: DepartmentServices) -> AsyncIterator[HubClient]:
    settings = hub_settings(demo_data_dir, services.ecology.url, services.security.url)
    async with open_hub(settings, authenticate=caller_named_in_header) as client:
        CALLERS["skipping-finance"] = caller("skipping-finance", {ENTERPRISE: ["licensing"], FINANCE: ["licensing"]})
        yield client


async def test_a_field_skipped_by_a_directive_is_not_recorded_as_disclosed(hub: HubClient, demo_db: Any) -> None:
    [row] = demo_db("market", "SELECT uscc FROM enterprises ORDER BY uscc DESC LIMIT 1")
    body = await ask(hub, "skipping-finance", "query($u: String!, $no: Boolean!) { enterprise(uscc: $u) "
                     "{ name registeredCapital @include(if: $no) address @skip(if: true) } }", u=row["uscc"], no=False)
    assert body["data"]["enterprise"].keys() == {"name"}  # the answer carried the name only
    store = hub.hub.disclosures.store
    [access] = [a for a in await who_accessed(store, row["uscc"]) if a.client_id == "skipping-finance"]
    assert access.fields == {"Enterprise.name": "allow"}


async def test_a_field_shown_through_a_union_fragment_is_recorded_as_disclosed(hub: HubClient, demo_db: Any) -> None:
    # A subgraph's `_Entity` union holds Enterprise: graphql-core runs a fragment on it inside an enterprise.
    CALLERS["union-fragment"] = caller("union-fragment", {ENTERPRISE: ["licensing"]})
    [row] = demo_db("market", "SELECT uscc, name FROM enterprises ORDER BY uscc DESC LIMIT 1")
    response = await hub.http.post("/subgraphs/market/graphql", json={
        "query": "query($u: String!) { enterprise(uscc: $u) { ... on _Entity { ... on Enterprise { name } } } }",
        "variables": {"u": row["uscc"]},
    }, headers={"x-test-caller": "union-fragment", "x-hub-purpose": "licensing"})
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"enterprise": {"name": row["name"]}}}  # the answer carried the name
    store = hub.hub.disclosures.store
    [access] = [a for a in await who_accessed(store, row["uscc"]) if a.client_id == "union-fragment"]
    assert access.fields == {"Enterprise.name": "allow"}


async def test_a_cursor_is_recorded_as_showing_the_key_it_carries(hub: HubClient, demo_db: Any) -> None:
    CALLERS["cursors-only"] = caller("cursors-only", {ENTERPRISE: ["licensing"]})
    [row] = demo_db("market", "SELECT uscc FROM enterprises ORDER BY uscc LIMIT 1")
    body = await ask(hub, "cursors-only", "{ enterprises(first: 1) { edges { cursor } } }")
    [edge] = body["data"]["enterprises"]["edges"]
    assert decode_cursor(edge["cursor"]) == row["uscc"]  # the answer carried the USCC
    store = hub.hub.disclosures.store
    [access] = [a for a in await who_accessed(store, row["uscc"]) if a.client_id == "cursors-only"]
    assert access.fields == {"Enterprise.uscc": "allow"}


async def test_a_pages_start_and_end_cursors_are_recorded_as_showing_those_records_keys(
    hub: HubClient, demo_db: Any
) -> None:
    CALLERS["page-ends"] = caller("page-ends", {ENTERPRISE: ["licensing"]})
    first, middle, last = demo_db("market", "SELECT uscc FROM enterprises ORDER BY uscc LIMIT 3")
    body = await ask(hub, "page-ends", "{ enterprises(first: 3) { pageInfo { startCursor endCursor } } }")
    page = body["data"]["enterprises"]["pageInfo"]
    assert (decode_cursor(page["startCursor"]), decode_cursor(page["endCursor"])) == (first["uscc"], last["uscc"])
    store = hub.hub.disclosures.store
    for row, fields in ((first, {"Enterprise.uscc": "allow"}), (middle, {}), (last, {"Enterprise.uscc": "allow"})):
        [access] = [a for a in await who_accessed(store, row["uscc"]) if a.client_id == "page-ends"]
        assert access.fields == fields, row
