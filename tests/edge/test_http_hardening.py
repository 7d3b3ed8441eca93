"""The HTTP edge refuses what it must: oversized bodies and batches, cross-site GETs, mutations on GET."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.edge.conftest import GRAPHQL_RESPONSE, EdgeHub, refusal_of, send
from tests.graph.conftest import DepartmentServices, HubClient, hub_settings, open_hub

PREFLIGHT = {"graphql-require-preflight": "1"}


async def test_a_body_over_max_body_bytes_is_refused_with_the_limit(edge_hub: EdgeHub) -> None:
    async with edge_hub(max_body_bytes=2000) as hub:
        padding = " " * 2000
        response = await hub.http.post(
            "/graphql", content=b'{"query": "{ __typename }"' + padding.encode() + b"}",
            headers={"content-type": "application/json"},
        )
        error = refusal_of(response, 413)
        assert error["extensions"]["code"] == "BODY_TOO_LARGE" and "max_body_bytes = 2000" in error["message"]


async def test_a_streamed_body_without_content_length_is_cut_off_at_the_limit(edge_hub: EdgeHub) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ __typename }", "pad": "'
        for _ in range(100):
            yield b"x" * 100
        yield b'"}'

    async with edge_hub(max_body_bytes=2000) as hub:
        response = await hub.http.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
        assert "content-length" not in response.request.headers
        assert refusal_of(response, 413)["extensions"]["code"] == "BODY_TOO_LARGE"


async def test_a_batch_runs_each_entry_as_its_own_operation(edge_hub: EdgeHub) -> None:
    batch = [
        {"query": "{ serviceMatters { code } }"},
        {"query": "{ nope }"},
        {"query": "query($n: String!) { licence(number: $n) { number } }", "variables": {"n": "JY1"}},
    ]
    async with edge_hub() as hub:
        response = await hub.http.post("/graphql", json=batch, headers={"accept": GRAPHQL_RESPONSE})
        assert response.status_code == 200
        first, second, third = response.json()
        assert first["data"]["serviceMatters"] and "errors" not in first
        assert "data" not in second and second["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert third["data"] == {"licence": None} and third["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_each_entry_of_a_batch_is_held_to_the_limits(edge_hub: EdgeHub) -> None:
    batch = [{"query": "{ a: __typename }"}, {"query": "{ a: __typename b: __typename }"}]
    async with edge_hub(max_aliases=1) as hub:
        fine, refused = (await hub.http.post("/graphql", json=batch)).json()
        assert fine == {"data": {"a": "Query"}}
        assert refused["errors"][0]["extensions"]["code"] == "ALIAS_LIMIT_EXCEEDED"


@pytest.mark.parametrize(("max_batch", "size"), [(10, 11), (2, 3), (1, 2), (10, 0)])
async def test_a_batch_larger_than_max_batch_is_refused_with_400(edge_hub: EdgeHub, max_batch: int, size: int) -> None:
    async with edge_hub(max_batch=max_batch) as hub:
        response = await hub.http.post("/graphql", json=[{"query": "{ __typename }"}] * size)
        error = refusal_of(response, 400)
        assert error["extensions"]["code"] == "BATCH_LIMIT_EXCEEDED"
        assert f"max_batch = {max_batch}" in error["message"]


async def test_a_plain_get_that_a_browser_could_send_cross_site_is_refused(hub: HubClient) -> None:
    before = hub.all_source_calls()
    for headers in ({}, {"accept": GRAPHQL_RESPONSE}, {"content-type": "text/plain"},
                    {"content-type": "application/x-www-form-urlencoded"}, {"x-requested-with": ""}):
        response = await hub.http.get("/graphql", params={"query": "{ serviceMatters { code } }"}, headers=headers)
        error = refusal_of(response, 400)
        assert error["extensions"]["code"] == "PREFLIGHT_REQUIRED", headers
        assert "GraphQL-Require-Preflight" in error["message"]
    assert hub.all_source_calls() == before


@pytest.mark.parametrize(
    "headers",
    [PREFLIGHT, {"x-requested-with": "XMLHttpRequest"}, {"apollo-require-preflight": "true"},
     {"content-type": "application/json"}],
)
async def test_a_get_with_a_preflight_forcing_header_runs(hub: HubClient, headers: dict[str, str]) -> None:
    response = await hub.http.get("/graphql", params={"query": "{ serviceMatters { code } }"}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["serviceMatters"]


async def test_a_mutation_over_get_is_405_with_allow_post(hub: HubClient) -> None:
    for accept in (GRAPHQL_RESPONSE, "application/json"):
        response = await hub.http.get(
            "/graphql", params={"query": "mutation { __typename }"}, headers={**PREFLIGHT, "accept": accept}
        )
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"
        assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


async def test_a_named_mutation_chosen_by_operation_name_over_get_is_405(hub: HubClient) -> None:
    params = {"query": "query Q { __typename } mutation M { __typename }", "operationName": "M"}
    response = await hub.http.get("/graphql", params=params, headers=PREFLIGHT)
    assert response.status_code == 405


async def test_development_suggests_field_names(edge_hub: EdgeHub) -> None:
    async with edge_hub(environment="development") as hub:
        error = refusal_of(await send(hub, "{ enterprize(uscc: \"x\") { name } }"))
        assert "Did you mean" in error["message"]


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ('{ enterprize(uscc: "x") { name } }', None),
        ('{ enterprises(statuss: IN_OPERATION) { edges { cursor } } }', None),
        ("{ enterprises(status: IN_OPERATON) { edges { cursor } } }", None),
        ("query($s: EnterpriseStatus) { enterprises(status: $s) { edges { cursor } } }", {"s": "IN_OPERATON"}),
    ],
)
async def test_production_never_suggests_names(
    edge_hub: EdgeHub, query: str, variables: dict[str, str] | None
) -> None:
    async with edge_hub(environment="production") as hub:
        response = await send(hub, query, variables)
        assert response.status_code == 400
        assert response.json()["errors"]
        assert "Did you mean" not in response.text and "IN_OPERATION" not in response.text


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("application/graphql-response+json;q=0, application/json", "application/json"),
        ("application/json;q=0.5, application/graphql-response+json;q=0.9", GRAPHQL_RESPONSE),
        ("text/html, */*;q=0.1", "application/json"),
    ],
)
async def test_accept_quality_values_are_honoured(hub: HubClient, accept: str, media_type: str) -> None:
    response = await hub.http.post("/graphql", json={"query": "{ __typename }"}, headers={"accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{media_type}; charset=utf-8"


async def test_nothing_acceptable_is_406(hub: HubClient) -> None:
    for accept in ("text/html", "application/json;q=0"):
        response = await hub.http.post("/graphql", json={"query": "{ __typename }"}, headers={"accept": accept})
        assert response.status_code == 406, accept


async def test_a_body_in_another_charset_than_utf8_is_415(hub: HubClient) -> None:
    response = await hub.http.post(
        "/graphql", content='{"query": "{ __typename }"}'.encode("utf-16"),
        headers={"content-type": "application/json; charset=utf-16"},
    )
    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_introspection_is_on_in_development_and_off_by_default_in_production(
    demo_data_dir: Path, services: DepartmentServices
) -> None:
    """Production does not describe its graph to whoever asks; the demo (and GraphiQL) does."""
    query = "{ __schema { queryType { name } } __type(name: \"Enterprise\") { name } }"
    development = hub_settings(demo_data_dir, services.ecology.url, services.security.url)
    async with open_hub(development) as hub:
        response = await send(hub, query)
        assert response.status_code == 200 and response.json()["data"]["__type"] == {"name": "Enterprise"}
    async with open_hub(dataclasses.replace(development, introspection=False)) as hub:
        response = await send(hub, query)
        assert response.status_code == 400
        assert "introspection" in response.text.lower() and "data" not in response.json()
    assert not dataclasses.replace(development, environment="production").introspection_enabled
