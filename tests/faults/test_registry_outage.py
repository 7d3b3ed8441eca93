"""The registry database down, cut off or hanging: callers get 503 with ``Retry-After`` and a stable
code at once (never a 500, never the full wait), and the hub serves again as soon as it is back."""

from __future__ import annotations

import time

import httpx
import pytest

from hub.client import new_client_key
from tests.faults.conftest import ProxiedHub
from tests.oauth.conftest import proof

pytestmark = pytest.mark.postgres


def assert_unavailable(response: httpx.Response, code: str) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) >= 1
    assert code in response.text
    assert "Traceback" not in response.text and "asyncpg" not in response.text


async def test_a_graphql_request_while_the_registry_is_down_is_503_registry_unavailable(
    proxied_hub: ProxiedHub,
) -> None:
    proxied_hub.proxy.refuse()
    response = await proxied_hub.graphql()
    assert_unavailable(response, "REGISTRY_UNAVAILABLE")
    assert response.json()["errors"][0]["extensions"]["code"] == "REGISTRY_UNAVAILABLE"


async def test_a_token_request_while_the_registry_is_down_is_503_temporarily_unavailable(
    proxied_hub: ProxiedHub,
) -> None:
    oauth = proxied_hub.oauth
    proxied_hub.proxy.refuse()
    response = await oauth.token_response(oauth.token_form(proxied_hub.session.client), new_client_key())
    assert_unavailable(response, "REGISTRY_UNAVAILABLE")
    assert response.json()["error"] == "temporarily_unavailable"
    assert response.headers["cache-control"] == "no-store"


async def test_the_admin_console_while_the_registry_is_down_is_503(proxied_hub: ProxiedHub) -> None:
    proxied_hub.proxy.refuse()
    response = await proxied_hub.oauth.http.get(
        "/admin/departments", headers={"Cookie": "__Host-hub-admin=a-session-the-registry-must-look-up"}
    )
    assert_unavailable(response, "REGISTRY_UNAVAILABLE")


async def test_a_subgraph_request_while_the_registry_is_down_is_503(proxied_hub: ProxiedHub) -> None:
    url = "https://hub.test/subgraphs/market/graphql"
    session = proxied_hub.session
    proxied_hub.proxy.refuse()
    response = await proxied_hub.oauth.http.post(url, json={"query": "{ __typename }"}, headers={
        "Authorization": f"DPoP {session.token}", "DPoP": proof(session.dpop_key, "POST", url, session.token),
    })
    assert_unavailable(response, "REGISTRY_UNAVAILABLE")


async def test_connections_cut_under_the_hub_cost_at_most_one_refusal_then_it_serves(
    proxied_hub: ProxiedHub,
) -> None:
    assert (await proxied_hub.graphql()).status_code == 200
    proxied_hub.proxy.drop()
    first = await proxied_hub.graphql()
    assert first.status_code in (200, 503), first.text
    assert (await proxied_hub.graphql()).status_code == 200


async def test_a_hanging_registry_answers_503_within_the_database_timeout_and_recovers(
    proxied_hub: ProxiedHub,
) -> None:
    assert (await proxied_hub.graphql()).status_code == 200
    proxied_hub.proxy.freeze()
    started = time.monotonic()
    response = await proxied_hub.graphql()
    waited = time.monotonic() - started
    assert_unavailable(response, "REGISTRY_UNAVAILABLE")
    # The statement's timeout, then the broken connection's reset and cancel, each bounded alike.
    assert waited < 4.0, f"the request waited {waited:.1f} s with database_timeout = 1 s"
    proxied_hub.proxy.restore()
    started = time.monotonic()
    while (status := (await proxied_hub.graphql()).status_code) != 200 and time.monotonic() - started < 2:
        pass
    assert status == 200


async def test_the_registry_back_after_an_outage_serves_the_next_request(proxied_hub: ProxiedHub) -> None:
    proxied_hub.proxy.refuse()
    assert (await proxied_hub.graphql()).status_code == 503
    proxied_hub.proxy.restore()
    assert (await proxied_hub.graphql()).status_code == 200
