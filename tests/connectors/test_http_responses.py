"""HTTP sources meeting answers a real department service does not give on demand.

Broken bodies, GraphQL errors, odd shapes: these use ``httpx.MockTransport`` because the demo
services answer correctly; everything a running service can show (down, slow, right answers) is
in the contract suite against the real thing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors import (
    Condition,
    Connector,
    Page,
    SourceError,
    UnsupportedQuery,
    build_connector,
    load_bindings,
)

DEPARTMENTS = Path(__file__).parents[2] / "connectors" / "departments"
Handler = Callable[[httpx.Request], httpx.Response]


async def failure(department: str, handler: Handler, call: str = "fetch") -> SourceError:
    binding = load_bindings(DEPARTMENTS)[department]
    connector: Connector = build_connector(binding, transport=httpx.MockTransport(handler))
    entity = next(iter(binding.entities))
    try:
        with pytest.raises(SourceError) as raised:
            if call == "fetch":
                await connector.fetch(entity, connector.key_of(entity), ["K1", "K2"])
            else:
                await connector.select(entity, [Condition("region_code", "prefix", "1302")], Page("number", 10))
    finally:
        await connector.aclose()
    assert raised.value.side == "provider" and raised.value.department == department
    return raised.value


def answer(status: int = 200, **kwargs: Any) -> Handler:
    return lambda request: httpx.Response(status, **kwargs)


@pytest.mark.parametrize("department", ["ecology", "security"])
async def test_a_server_error_names_the_status_and_echoes_at_most_200_characters(department: str) -> None:
    error = await failure(department, answer(503, text="maintenance window " + "x" * 5000))
    assert error.reason.startswith("HTTP 503: maintenance window")
    assert len(error.reason) <= len("HTTP 503: ") + 200


@pytest.mark.parametrize("department", ["ecology", "security"])
async def test_a_body_that_is_not_json_is_a_provider_failure(department: str) -> None:
    error = await failure(department, answer(text="<html>gateway</html>"))
    assert error.reason == "invalid JSON in response"


async def test_a_rest_answer_without_its_items_member_is_a_provider_failure() -> None:
    error = await failure("ecology", answer(json={"results": []}), call="select")
    assert error.reason == "response has no 'items' member"


async def test_rest_items_that_are_not_objects_are_a_provider_failure() -> None:
    error = await failure("ecology", answer(json={"items": ["GF1", "GF2"]}))
    assert error.reason == "discharge_permit: expected a list of objects"


async def test_graphql_errors_in_the_answer_are_a_provider_failure_quoting_their_messages() -> None:
    body = {"data": None, "errors": [{"message": "persons takes at most 500 idNumbers"}, {"message": "b"}]}
    error = await failure("security", answer(json=body))
    assert error.reason == "GraphQL errors: persons takes at most 500 idNumbers; b"


@pytest.mark.parametrize("body", [{"data": None}, {"data": {}}, {"data": {"persons": None}}, []])
async def test_a_graphql_answer_without_data_for_the_query_is_a_provider_failure(body: Any) -> None:
    error = await failure("security", answer(json=body))
    assert "GraphQL result" in error.reason or "no data for 'persons'" in error.reason


async def test_a_graphql_service_answering_null_for_an_unknown_key_leaves_that_key_absent() -> None:
    person = {
        "idNumber": "K1",
        "name": "张三",
        "sex": "1",
        "birthDate": "1990-01-01",
        "addressCode": "130202",
        "idValidFrom": "2010-01-01",
        "idValidTo": None,
        "status": "normal",
    }
    binding = load_bindings(DEPARTMENTS)["security"]
    connector = build_connector(
        binding, transport=httpx.MockTransport(answer(json={"data": {"persons": [person, None]}}))
    )
    try:
        records = await connector.fetch("identity_record", "id_number", ["K1", "K2"])
    finally:
        await connector.aclose()
    assert records == [
        {
            "id_number": "K1",
            "name": "张三",
            "sex": "1",
            "birth_date": "1990-01-01",
            "address_code": "130202",
            "id_valid_from": "2010-01-01",
            "id_valid_to": None,
            "status": "normal",
        }
    ]


async def test_a_rest_value_holding_a_comma_is_refused_before_it_could_turn_into_a_list() -> None:
    def never(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"no request should be sent, got {request.url}")

    binding = load_bindings(DEPARTMENTS)["ecology"]
    connector = build_connector(binding, transport=httpx.MockTransport(never))
    page = Page("number", 10)
    try:
        for attempt in (
            connector.fetch("discharge_permit", "number", ["GF1,GF2"]),
            connector.select("discharge_permit", [Condition("holder_name", "eq", "唐山甲,乙公司")], page),
        ):
            with pytest.raises(UnsupportedQuery, match="contains a comma") as raised:
                await attempt
            assert raised.value.side == "hub"
    finally:
        await connector.aclose()
