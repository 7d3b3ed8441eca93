"""``hub.client.HubAuth``: a department system's whole OAuth path, sync and async, with nonces."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from hub.app import create_app
from hub.client import HubAuth, TokenRefused
from hub.commands.registry import register_demo_clients
from hub.demo.services import serve_in_thread
from hub.settings import load_settings
from tests.oauth.conftest import RESOURCE, OAuthHub, open_oauth_hub, production_settings

QUERY = {"query": "{ __typename }"}


@pytest.fixture
async def nonce_hub(tmp_path: Path, demo_data_dir: Path) -> AsyncIterator[OAuthHub]:
    settings = production_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'n.sqlite'}", demo_data_dir, dpop_nonce=True
    )
    async with open_oauth_hub(settings) as hub:
        yield hub


async def test_hub_auth_gets_a_token_once_and_signs_a_proof_per_request(oauth: OAuthHub) -> None:
    auth = (await oauth.register()).auth()
    for _ in range(3):
        response = await oauth.http.post(RESOURCE, json=QUERY, auth=auth)
        assert response.status_code == 200 and response.json() == {"data": {"__typename": "Query"}}
    assert auth._token is not None


async def test_hub_auth_follows_the_servers_nonce(nonce_hub: OAuthHub) -> None:
    auth = (await nonce_hub.register()).auth()
    response = await nonce_hub.http.post(RESOURCE, json=QUERY, auth=auth)
    assert response.status_code == 200, response.text


async def test_hub_auth_reports_a_refused_token_request(oauth: OAuthHub) -> None:
    auth = (await oauth.register()).auth(scope="centre.case:read")
    with pytest.raises(TokenRefused) as refused:
        await oauth.http.post(RESOURCE, json=QUERY, auth=auth)
    assert refused.value.error == "invalid_scope"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_demo_client_file_works_with_a_synchronous_client(tmp_path: Path, demo_data_dir: Path) -> None:
    port = _free_port()
    settings = load_settings(
        environment="development",
        port=port,
        state_dir=tmp_path,
        demo_data_dir=demo_data_dir,
        dpop_nonce=True,
    )
    [market] = [p for p in register_demo_clients(settings, tmp_path / "clients") if p.stem == "market"]
    demo = json.loads(market.read_text())
    auth = HubAuth(
        demo["token_url"], demo["client_id"], demo["private_jwk"], demo["resource"], "market.enterprise:read"
    )
    with (
        serve_in_thread(create_app(settings), port=port) as running,
        httpx.Client(base_url=running.url) as http,
    ):
        assert http.post("/graphql", json=QUERY).status_code == 401
        response = http.post("/graphql", json=QUERY, auth=auth)
    assert response.status_code == 200 and response.json() == {"data": {"__typename": "Query"}}


async def test_the_whole_path_works_on_either_registry_database(
    registry_url: str, demo_data_dir: Path
) -> None:
    async with open_oauth_hub(production_settings(registry_url, demo_data_dir)) as hub:
        client = await hub.register()
        response = await hub.http.post(RESOURCE, json=QUERY, auth=client.auth())
        assert response.status_code == 200, response.text
        token = client.auth()
        await hub.http.post(RESOURCE, json=QUERY, auth=token)
        assert token._token is not None
        revoke = await hub.http.post("/oauth/revoke", data={**hub.token_form(client), "token": token._token})
        assert revoke.status_code == 200
        assert (await hub.http.post(RESOURCE, json=QUERY, auth=token)).status_code == 401
