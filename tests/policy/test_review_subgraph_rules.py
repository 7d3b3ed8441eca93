"""Review: the subgraph endpoints hold /graphql's rules (jurisdiction, hidden types, @requires, cost).

Each test states what /graphql answers and that a department's subgraph answers the same: an
enterprise is placed in a division by its owner's current record everywhere; a type outside the
caller's view reads exactly like a type that does not exist; a representation short of a
``@requires`` field is the caller's mistake; ``_entities`` costs what its representations ask for.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hub.graphql.limits import Limits
from tests.graph.conftest import DepartmentServices, HubClient, hub_settings, open_hub
from tests.policy.test_applied import CALLERS, ENTERPRISE, ask, caller, caller_named_in_header

ENTITIES = "query($r: [_Any!]!) { _entities(representations: $r) { %s } }"
# What each contributing department adds to an enterprise: one field each, read through `_entities`.
CONTRIBUTED = {
    "taxation": "taxRegistration { status }",
    "housing": "constructionPermits { number }",
    "ecology": "dischargePermits { number }",
    "centre": "cases { number }",
}


def _region_and_moves(data_dir: Path) -> tuple[str, str, str]:
    """(a region, an enterprise there that moves away, an enterprise elsewhere that moves in)."""
    with sqlite3.connect(data_dir / "market.sqlite") as db:
        [(region,)] = db.execute("SELECT region_code FROM enterprises GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        [(leaving,)] = db.execute("SELECT uscc FROM enterprises WHERE region_code = ? AND substr(uscc, 3, 6) = ? "
                                  "ORDER BY uscc LIMIT 1", (region, region))
        [(arriving, elsewhere)] = db.execute(
            "SELECT uscc, region_code FROM enterprises WHERE region_code <> ? AND substr(uscc, 3, 6) <> ? "
            "ORDER BY uscc LIMIT 1", (region, region))
        db.execute("UPDATE enterprises SET region_code = ? WHERE uscc = ?", (elsewhere, leaving))
        db.execute("UPDATE enterprises SET region_code = ? WHERE uscc = ?", (region, arriving))
    return region, leaving, arriving


@pytest.fixture(scope="module")
def moved(tmp_path_factory: pytest.TempPathFactory, demo_data_dir: Path) -> tuple[Path, str, str, str]:
    """The demo departments after two enterprises changed division in Market Regulation's register."""
    data_dir = tmp_path_factory.mktemp("moved") / "data"
    shutil.copytree(demo_data_dir, data_dir)
    return (data_dir, *_region_and_moves(data_dir))


def _everything(policies: Any, jurisdiction: str) -> Any:
    return caller("district-all", {policies.types[name].scope: ["licensing"] for name in policies.types},
                  jurisdiction=jurisdiction)


@pytest.fixture
async def district_hub(
    moved: tuple[Path, str, str, str], services: DepartmentServices
) -> AsyncIterator[HubClient]:
    data_dir, region, _, _ = moved
    async with open_hub(hub_settings(data_dir, services.ecology.url, services.security.url),
                        authenticate=caller_named_in_header) as client:
        CALLERS["district-all"] = _everything(client.hub.policies, region)
        yield client


async def subgraph(hub: HubClient, department: str, who: str, selection: str, representations: list[Any]) -> Any:
    response = await hub.http.post(
        f"/subgraphs/{department}/graphql", json={"query": ENTITIES % selection, "variables": {"r": representations}},
        headers={"x-test-caller": who, "x-hub-purpose": "licensing"},
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("department", sorted(CONTRIBUTED))
async def test_an_enterprise_that_moved_away_is_not_served_by_a_contributing_subgraph_to_its_old_division(
    district_hub: HubClient, moved: tuple[Path, str, str, str], department: str
) -> None:
    _, _, leaving, _ = moved
    graph = await ask(district_hub, "district-all", "query($u: String!) { enterprise(uscc: $u) { uscc } }", u=leaving)
    assert graph["data"] == {"enterprise": None}
    body = await subgraph(district_hub, department, "district-all",
                          f"... on Enterprise {{ {CONTRIBUTED[department]} }}",
                          [{"__typename": "Enterprise", "uscc": leaving}])
    assert body["data"]["_entities"] == [None]


@pytest.mark.parametrize("department", sorted(CONTRIBUTED))
async def test_an_enterprise_that_moved_in_is_served_by_a_contributing_subgraph_to_its_new_division(
    district_hub: HubClient, moved: tuple[Path, str, str, str], department: str
) -> None:
    _, _, _, arriving = moved
    graph = await ask(district_hub, "district-all", "query($u: String!) { enterprise(uscc: $u) { uscc } }", u=arriving)
    assert graph["data"] == {"enterprise": {"uscc": arriving}}
    body = await subgraph(district_hub, department, "district-all", "... on Enterprise { uscc }",
                          [{"__typename": "Enterprise", "uscc": arriving}])
    assert body["data"]["_entities"] == [{"uscc": arriving}]


async def test_with_the_owner_unreachable_a_contributing_subgraph_withholds_the_enterprise_and_names_the_owner(
    moved: tuple[Path, str, str, str], services: DepartmentServices
) -> None:
    data_dir, region, _, arriving = moved
    unreachable = {"market": {"url": "postgresql+asyncpg://hub@127.0.0.1:9/market", "timeout": 2}}
    settings = hub_settings(data_dir, services.ecology.url, services.security.url, sources=unreachable)
    async with open_hub(settings, authenticate=caller_named_in_header) as hub:
        CALLERS["district-all"] = _everything(hub.hub.policies, region)
        body = await subgraph(hub, "taxation", "district-all", "... on Enterprise { taxRegistration { status } }",
                              [{"__typename": "Enterprise", "uscc": arriving}])
    assert body["data"]["_entities"] == [None]
    [error] = body["errors"]
    assert error["extensions"]["code"] == "SOURCE_UNAVAILABLE" and error["extensions"]["department"] == "market"


@pytest.fixture
async def hub(demo_data_dir: Path, services: DepartmentServices) -> AsyncIterator[HubClient]:
    async with open_hub(hub_settings(demo_data_dir, services.ecology.url, services.security.url),
                        authenticate=caller_named_in_header) as client:
        CALLERS["enterprise-only"] = caller("enterprise-only", {ENTERPRISE: ["licensing"]})
        yield client


async def test_a_hidden_entity_type_reads_exactly_like_a_type_that_does_not_exist(
    hub: HubClient, demo_db: Any
) -> None:
    [person] = demo_db("market", "SELECT id_number FROM persons ORDER BY id_number LIMIT 1")
    answers = {}
    for name in ("Person", "Persom"):
        body = await subgraph(hub, "market", "enterprise-only", "__typename",
                              [{"__typename": name, "idNumber": person["id_number"]}])
        answers[name] = body
    assert answers["Person"]["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    hidden = str(answers["Person"]).replace("'Person'", "'Persom'")
    assert hidden == str(answers["Persom"])
    assert "Person" not in answers["Persom"]["errors"][0]["message"]  # the hidden type is not named either
    assert "Enterprise" in answers["Persom"]["errors"][0]["message"]  # the types the caller sees are


async def test_a_person_without_the_name_security_requires_is_bad_input_naming_the_field(
    unrestricted_hub: HubClient, demo_db: Any, caplog: pytest.LogCaptureFixture
) -> None:
    [person] = demo_db("market", "SELECT id_number FROM persons ORDER BY id_number LIMIT 1")
    with caplog.at_level(logging.ERROR):
        body = await subgraph(unrestricted_hub, "security", "", "... on Person { identityVerification { verified } }",
                              [{"__typename": "Person", "idNumber": person["id_number"]}])
    assert body["data"]["_entities"] == [None]
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "name" in error["message"] and "identityVerification" in error["message"]
    assert not [r for r in caplog.records if r.exc_info]


async def _unrestricted(request: Any) -> Any:
    from hub.context import Caller

    return Caller(client_id="gateway-test", unrestricted=True)


@pytest.fixture
async def unrestricted_hub(demo_data_dir: Path, services: DepartmentServices) -> AsyncIterator[HubClient]:
    settings = hub_settings(demo_data_dir, services.ecology.url, services.security.url)
    async with open_hub(settings, authenticate=_unrestricted) as client:
        yield client


@pytest.fixture
async def limited_hub(demo_data_dir: Path, services: DepartmentServices) -> AsyncIterator[HubClient]:
    limits = Limits(max_cost=100, max_representations=50)
    settings = hub_settings(demo_data_dir, services.ecology.url, services.security.url, limits=limits)
    async with open_hub(settings, authenticate=_unrestricted) as client:
        yield client


def _enterprises(demo_db: Any, n: int) -> list[dict[str, str]]:
    return [{"__typename": "Enterprise", "uscc": r["uscc"]}
            for r in demo_db("market", "SELECT uscc FROM enterprises ORDER BY uscc LIMIT ?", n)]


async def test_entities_cost_their_selection_once_per_representation(
    limited_hub: HubClient, demo_db: Any
) -> None:
    selection = "... on Enterprise { uscc name status }"
    small = await subgraph(limited_hub, "market", "", selection, _enterprises(demo_db, 30))  # 1 + 30 x 3 = 91
    assert "errors" not in small and len(small["data"]["_entities"]) == 30
    refused = await subgraph(limited_hub, "market", "", selection, _enterprises(demo_db, 40))  # 1 + 40 x 3 = 121
    assert "data" not in refused
    [error] = refused["errors"]
    assert error["extensions"] == {"code": "COST_LIMIT_EXCEEDED", "cost": 121, "limit": 100}


async def test_representations_written_in_the_document_are_counted_too(
    limited_hub: HubClient, demo_db: Any
) -> None:
    listed = ", ".join(f'{{__typename: "Enterprise", uscc: "{r["uscc"]}"}}' for r in _enterprises(demo_db, 40))
    query = f"{{ _entities(representations: [{listed}]) {{ ... on Enterprise {{ uscc name status }} }} }}"
    response = await limited_hub.http.post("/subgraphs/market/graphql", json={"query": query})
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "COST_LIMIT_EXCEEDED", "cost": 121, "limit": 100}


async def test_more_representations_than_max_representations_are_refused_before_any_look_up(
    limited_hub: HubClient, demo_db: Any
) -> None:
    before = limited_hub.all_source_calls()
    body = await subgraph(limited_hub, "market", "", "__typename", _enterprises(demo_db, 51))
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"] == {"code": "REPRESENTATION_LIMIT_EXCEEDED", "representations": 51, "limit": 50}
    assert "51 representations" in error["message"] and "max_representations = 50" in error["message"]
    assert limited_hub.all_source_calls() == before


async def test_representations_that_are_not_a_list_cost_one_and_are_refused_as_input(limited_hub: HubClient) -> None:
    response = await limited_hub.http.post("/subgraphs/market/graphql", json={
        "query": ENTITIES % "__typename", "variables": {"r": "Enterprise"}})
    body = response.json()
    assert body["data"]["_entities"] == [None]
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
