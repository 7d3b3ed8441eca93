"""TLS ending in the hub: uvicorn with ``hub.federation.tls`` passes the gateway's verified certificate on.

A production hub served for real over TLS (the hub's certificate for 127.0.0.1, gateways' client
certificates from the configured CA, asked for but optional), and clients that present a
certificate or not.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from hub.app import create_app
from hub.demo.services import RunningService, serve_in_thread
from hub.federation.tls import server_context_options
from hub.grants import GrantService
from hub.oauth.clock import Clock
from hub.store import Registry, connect, migrate
from hub.store.gateways import Gateways
from tests.federation.pki import Authority, Issued
from tests.federation.test_gateway_trust import DECLARED, ENTERPRISE, MARKET, uscc_of_first_enterprise
from tests.oauth.conftest import OPERATOR, grant_catalogue, production_settings


@dataclass
class Served:
    url: str
    authority: Authority  # the hub's server certificate and gateways' client certificates
    gateway: Issued


@pytest.fixture
async def registered(tmp_path: Path) -> AsyncIterator[tuple[str, Authority, Issued]]:
    """A registry with a centre gateway granted enterprises, and the PKI around it."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}"
    engine = connect(url)
    try:
        await migrate(engine)
        authority = Authority(tmp_path)
        gateway = authority.issue("city-gateway")
        registry = Registry(engine)
        for name in ("centre", "market"):
            await registry.add_department(name, name.title())
        client = await Gateways(engine).register("centre", "City gateway", gateway.loaded)
        service = GrantService(engine, grant_catalogue(), Clock())
        await service.grant_now(OPERATOR, client.client_id, {ENTERPRISE}, ("licensing",), "test fixture", 30)
        yield url, authority, gateway
    finally:
        await engine.dispose()


@pytest.fixture
def served(registered: tuple[str, Authority, Issued], demo_data_dir: Path) -> Iterator[Served]:
    url, authority, gateway = registered
    server = authority.issue("hub-server", server=True)
    app = create_app(production_settings(url, demo_data_dir))
    running: RunningService = serve_in_thread(
        app, **server_context_options(str(server.certificate), str(server.key), str(authority.path)))
    try:
        yield Served(running.url, authority, gateway)
    finally:
        running.stop()


def _tls(served: Served, certificate: Issued | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(served.authority.path))
    if certificate is not None:
        context.load_cert_chain(str(certificate.certificate), str(certificate.key))
    return context


def _ask(served: Served, certificate: Issued | None, uscc: str, path: str = MARKET) -> httpx.Response:
    with httpx.Client(verify=_tls(served, certificate), timeout=10) as client:
        return client.post(served.url + path, headers=DECLARED, json={
            "query": "query($u: String!) { enterprise(uscc: $u) { name } }", "variables": {"u": uscc}})


def test_a_gateway_presenting_its_registered_certificate_reads_its_subgraph(
    served: Served, demo_data_dir: Path
) -> None:
    enterprise = uscc_of_first_enterprise(demo_data_dir)
    response = _ask(served, served.gateway, enterprise["uscc"])
    assert response.status_code == 200, response.text
    assert response.json()["data"]["enterprise"]["name"] == enterprise["name"]


def test_without_a_certificate_the_connection_opens_and_the_subgraph_wants_a_token(
    served: Served, demo_data_dir: Path
) -> None:
    response = _ask(served, None, uscc_of_first_enterprise(demo_data_dir)["uscc"])
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"


def test_a_certificate_the_ca_did_not_issue_fails_the_handshake(
    served: Served, demo_data_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "elsewhere").mkdir()
    outsider = Authority(tmp_path / "elsewhere", "Another CA").issue("city-gateway")
    with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
        _ask(served, outsider, uscc_of_first_enterprise(demo_data_dir)["uscc"])


def test_a_certificate_of_the_ca_that_is_not_registered_is_refused(served: Served, demo_data_dir: Path) -> None:
    response = _ask(served, served.authority.issue("stranger"), uscc_of_first_enterprise(demo_data_dir)["uscc"])
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


@pytest.mark.parametrize("given", [("tls_certificate",), ("tls_certificate", "tls_key"), ("tls_key", "tls_client_ca")])
def test_tls_in_the_hub_needs_all_three_files(tmp_path: Path, given: tuple[str, ...]) -> None:
    from hub.settings import SettingsError, load_settings

    authority = Authority(tmp_path)
    server = authority.issue("hub-server", server=True)
    files = {"tls_certificate": server.certificate, "tls_key": server.key, "tls_client_ca": authority.path}
    with pytest.raises(SettingsError, match="HUB_TLS_CERTIFICATE, HUB_TLS_KEY and HUB_TLS_CLIENT_CA"):
        load_settings(environment="development", **{name: files[name] for name in given})


def test_tls_files_that_do_not_exist_stop_the_hub(tmp_path: Path) -> None:
    from hub.settings import SettingsError, load_settings

    missing = tmp_path / "nowhere.pem"
    with pytest.raises(SettingsError, match="each an existing file"):
        load_settings(environment="development", tls_certificate=missing, tls_key=missing, tls_client_ca=missing)
