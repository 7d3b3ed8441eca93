"""The edge's tests run the hub as tests/graph does: the same demo departments and fixtures.

``edge_hub(**limits)`` opens a hub whose operation limits are the given ones (defaults otherwise);
Its callers are whoever the ``X-Test-Client`` header names (a test authenticator: these tests are
about the edge, not about tokens). ``send`` posts a GraphQL request and returns the raw HTTP response, whatever its status.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.requests import Request

from hub.composition import Hub
from hub.context import Caller
from hub.graphql.documents import DocumentCache
from hub.graphql.limits import Limits
from tests.graph.conftest import (  # noqa: F401  (fixtures, used by name)
    DepartmentServices,
    HubClient,
    hub,
    hub_settings,
    open_hub,
)

GRAPHQL_RESPONSE = "application/graphql-response+json"
EdgeHub = Callable[..., AbstractAsyncContextManager[HubClient]]


async def caller_from_header(request: Request) -> Caller:
    """The edge's limits under test, not policies: the caller sees the whole graph, as the demo does."""
    return Caller(client_id=request.headers.get("x-test-client"), unrestricted=True)


@pytest.fixture
def edge_hub(demo_data_dir: Path, services: DepartmentServices) -> EdgeHub:
    @asynccontextmanager
    async def open_with(*, environment: str = "development", **limits: Any) -> AsyncIterator[HubClient]:
        settings = hub_settings(demo_data_dir, services.ecology.url, services.security.url, limits=Limits(**limits))

        def as_in_production(built: Hub) -> Hub:
            """The edge as build_hub makes it for production; production's other needs (OAuth keys, a
            registry database) are not what these tests are about."""
            return dataclasses.replace(
                built, settings=dataclasses.replace(settings, environment="production"),
                documents=DocumentCache(built.graphql_schema, settings.limits, max_page_size=settings.max_page_size,
                                        hide_suggestions=True),
            )

        adapt = as_in_production if environment == "production" else None
        async with open_hub(settings, authenticate=caller_from_header, adapt=adapt) as client:
            yield client

    return open_with


async def send(
    client: HubClient, query: str, variables: dict[str, Any] | None = None, **headers: str
) -> httpx.Response:
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    return await client.http.post("/graphql", json=body, headers={"accept": GRAPHQL_RESPONSE, **headers})


def refusal_of(response: httpx.Response, status: int = 400) -> dict[str, Any]:
    """The one error of a request refused before execution (no ``data`` entry)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert "data" not in body, body
    [error] = body["errors"]
    return error  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def some_uscc(demo_db: Any) -> str:
    rows = demo_db("market", "SELECT holder_uscc FROM food_licences ORDER BY holder_uscc LIMIT 1")
    return rows[0]["holder_uscc"]  # type: ignore[no-any-return]
