"""Persisted operations: each client runs what is on its allow-list, and production can insist on it."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson
import pytest

from hub.settings import SettingsError
from tests.edge.conftest import EdgeHub, refusal_of
from tests.graph.conftest import HubClient

MATTERS = "query Matters { serviceMatters { code } }"
LICENCE = "query Licence($n: String!) { licence(number: $n) { number } }"
UNLISTED = "{ serviceMatters { name } }"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def allow_lists(tmp_path: Path) -> Path:
    (tmp_path / "case-system.json").write_bytes(orjson.dumps({sha256(MATTERS): MATTERS}))
    (tmp_path / "tax-system.json").write_bytes(orjson.dumps({sha256(LICENCE): LICENCE}))
    return tmp_path


async def post(hub: HubClient, client: str, body: dict[str, Any]) -> Any:
    return await hub.http.post(
        "/graphql", json=body, headers={"x-test-client": client, "accept": "application/graphql-response+json"}
    )


def by_hash(text: str) -> dict[str, Any]:
    return {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256(text)}}}


async def test_a_listed_operation_runs_by_its_hash_alone(edge_hub: EdgeHub, allow_lists: Path) -> None:
    async with edge_hub(persisted_operations_dir=allow_lists) as hub:
        response = await post(hub, "case-system", by_hash(MATTERS))
        assert response.status_code == 200 and response.json()["data"]["serviceMatters"]


async def test_a_listed_operation_runs_by_hash_over_get(edge_hub: EdgeHub, allow_lists: Path) -> None:
    async with edge_hub(persisted_operations_dir=allow_lists) as hub:
        params = {"extensions": orjson.dumps(by_hash(MATTERS)["extensions"]).decode()}
        headers = {"x-test-client": "case-system", "graphql-require-preflight": "1"}
        response = await hub.http.get("/graphql", params=params, headers=headers)
        assert response.status_code == 200 and response.json()["data"]["serviceMatters"]


async def test_a_hash_on_another_clients_list_is_not_found(edge_hub: EdgeHub, allow_lists: Path) -> None:
    async with edge_hub(persisted_operations_dir=allow_lists) as hub:
        error = refusal_of(await post(hub, "case-system", {**by_hash(LICENCE), "variables": {"n": "JY1"}}))
        assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        assert sha256(LICENCE) in error["message"] and "case-system" in error["message"]


async def test_without_enforcement_any_document_runs(edge_hub: EdgeHub, allow_lists: Path) -> None:
    async with edge_hub(persisted_operations_dir=allow_lists) as hub:
        response = await post(hub, "case-system", {"query": UNLISTED})
        assert response.status_code == 200 and response.json()["data"]["serviceMatters"]


async def test_enforced_lists_run_a_full_document_whose_hash_is_listed(edge_hub: EdgeHub, allow_lists: Path) -> None:
    async with edge_hub(persisted_operations_dir=allow_lists, require_persisted_operations=True) as hub:
        response = await post(hub, "case-system", {"query": MATTERS})
        assert response.status_code == 200 and response.json()["data"]["serviceMatters"]
        response = await post(hub, "case-system", {"query": MATTERS, **by_hash(MATTERS)})
        assert response.status_code == 200 and response.json()["data"]["serviceMatters"]


@pytest.mark.parametrize(
    ("client", "body"),
    [
        ("case-system", {"query": UNLISTED}),
        ("case-system", {"query": MATTERS + " "}),  # not byte for byte the listed text
        ("case-system", {"query": UNLISTED, **by_hash(UNLISTED)}),
        ("tax-system", {"query": MATTERS}),  # listed, but for another client
        ("", {"query": MATTERS}),  # no client at all
        ("", {"query": "{ __schema { types { name } } }"}),
    ],
)
async def test_enforced_lists_refuse_every_other_document(
    edge_hub: EdgeHub, allow_lists: Path, client: str, body: dict[str, Any]
) -> None:
    async with edge_hub(persisted_operations_dir=allow_lists, require_persisted_operations=True) as hub:
        before = hub.all_source_calls()
        error = refusal_of(await post(hub, client, body))
        assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
        assert "require_persisted_operations" in error["message"]
        assert hub.all_source_calls() == before


async def test_a_hash_that_is_not_the_documents_is_refused(edge_hub: EdgeHub, allow_lists: Path) -> None:
    async with edge_hub(persisted_operations_dir=allow_lists) as hub:
        error = refusal_of(await post(hub, "case-system", {"query": UNLISTED, **by_hash(MATTERS)}))
        assert error["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"


async def test_a_malformed_persisted_query_extension_is_refused(edge_hub: EdgeHub, allow_lists: Path) -> None:
    async with edge_hub(persisted_operations_dir=allow_lists) as hub:
        body = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}}
        assert refusal_of(await post(hub, "case-system", body))["extensions"]["code"] == "BAD_REQUEST"


async def test_an_allow_list_whose_hash_does_not_match_its_document_stops_the_hub(
    edge_hub: EdgeHub, tmp_path: Path
) -> None:
    (tmp_path / "case-system.json").write_bytes(orjson.dumps({sha256(MATTERS): UNLISTED}))
    with pytest.raises(SettingsError, match="case-system.json"):
        async with edge_hub(persisted_operations_dir=tmp_path):
            pass


def test_enforcement_without_allow_lists_is_a_settings_error(tmp_path: Path) -> None:
    from hub.settings import load_settings

    with pytest.raises(SettingsError, match="persisted_operations_dir"):
        load_settings(environment="development", limits={"require_persisted_operations": True})
