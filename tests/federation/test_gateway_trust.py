"""A gateway in front of a production hub: known by its TLS client certificate, bounded by its grants.

TLS ends in a proxy here (the certificate comes in RFC 9440's Client-Cert header from an address in
``trusted_proxies``); ``test_gateway_tls.py`` ends TLS in the hub itself. Each test says what a
gateway, or someone pretending to be one, sees.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.app import create_app
from hub.composition import Hub
from hub.audit import who_accessed
from hub.audit.verify import verify
from hub.store.gateways import Gateways
from tests.federation.pki import Authority, Issued
from tests.oauth.conftest import ISSUER, OPERATOR, OAuthHub, production_settings

PROXY = "10.0.0.7"
ENTERPRISE = "market.enterprise:read"
PERSON = "market.person:read"
LEGAL_REP = "market.enterprise.legal_rep:read"
MARKET = "/subgraphs/market/graphql"
QUERY = "query Registry($u: String!) { enterprise(uscc: $u) { uscc name legalRepresentative { name } } }"
DECLARED = {"X-Hub-End-User": "clerk-0042", "X-Hub-Purpose": "licensing", "X-Hub-Case": "C2026112600017"}


@dataclass
class Fronted:
    """The hub, the proxy in front of it (a trusted address), and a registered gateway's certificate."""

    hub: Hub
    oauth: OAuthHub
    proxy: httpx.AsyncClient
    elsewhere: httpx.AsyncClient  # an address not in trusted_proxies
    gateways: Gateways
    gateway_id: str
    certificate: Issued
    authority: Authority

    async def ask(self, certificate: Issued | None, query: str = QUERY, path: str = MARKET,
                  client: httpx.AsyncClient | None = None, **variables: Any) -> httpx.Response:
        headers = dict(DECLARED)
        if certificate is not None:
            headers["Client-Cert"] = client_cert(certificate)
        return await (client or self.proxy).post(path, json={"query": query, "variables": variables},
                                                  headers=headers)


def client_cert(issued: Issued) -> str:
    return f":{base64.b64encode(issued.loaded.der).decode()}:"


def uscc_of_first_enterprise(demo_data_dir: Path) -> dict[str, Any]:
    import sqlite3

    with sqlite3.connect(demo_data_dir / "market.sqlite") as conn:
        conn.row_factory = sqlite3.Row
        return dict(conn.execute("SELECT e.uscc, e.name, p.name AS rep FROM enterprises e JOIN persons p "
                                 "ON p.id_number = e.legal_rep_id ORDER BY e.uscc LIMIT 1").fetchone())


@pytest.fixture
async def fronted(tmp_path: Path, demo_data_dir: Path) -> AsyncIterator[Fronted]:
    settings = production_settings(f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}", demo_data_dir,
                                   trusted_proxies=(PROXY,))
    app = create_app(settings)
    hub: Hub = app.state.hub
    await hub.database.open()
    proxy = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(PROXY, 40000)), base_url=ISSUER)
    elsewhere = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("192.0.2.9", 40000)),
                                  base_url=ISSUER)
    try:
        oauth = OAuthHub(proxy, hub)
        await oauth.department("centre")
        authority = Authority(tmp_path)
        certificate = authority.issue("city-gateway")
        gateways = Gateways(hub.oauth.parts.engine)
        gateway = await gateways.register("centre", "City gateway", certificate.loaded)
        await oauth.grant(gateway.client_id, frozenset({ENTERPRISE, PERSON, LEGAL_REP}))
        yield Fronted(hub, oauth, proxy, elsewhere, gateways, gateway.client_id, certificate, authority)
    finally:
        await proxy.aclose()
        await elsewhere.aclose()
        await hub.aclose()


def refusal(response: httpx.Response, status: int, error: str) -> str:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error, response.text
    return str(response.json()["error_description"])


async def test_a_registered_gateway_reads_what_its_grants_hold_and_the_record_names_its_declaration(
    fronted: Fronted, demo_data_dir: Path
) -> None:
    enterprise = uscc_of_first_enterprise(demo_data_dir)
    system = await fronted.oauth.register("housing", frozenset({ENTERPRISE}))
    response = await fronted.proxy.post(
        MARKET, json={"query": QUERY, "variables": {"u": enterprise["uscc"]}},
        headers={**DECLARED, "Client-Cert": client_cert(fronted.certificate), "X-Hub-Origin-Client": system.client_id},
    )
    assert response.status_code == 200, response.text
    seen = response.json()["data"]["enterprise"]
    assert (seen["name"], seen["legalRepresentative"]["name"] is not None) == (enterprise["name"], True)
    store = fronted.hub.disclosures.store
    [access] = await who_accessed(store, enterprise["uscc"])
    assert (access.client_id, access.department, access.gateway) == (fronted.gateway_id, "centre", fronted.gateway_id)
    assert (access.end_user, access.purpose, access.case_number) == ("clerk-0042", "licensing", "C2026112600017")
    assert (access.origin_client, access.origin_proven) == (system.client_id, False)
    assert (await verify(store)).intact


async def test_without_a_certificate_or_a_token_the_subgraph_is_refused(fronted: Fronted) -> None:
    refusal(await fronted.ask(None), 401, "invalid_token")


async def test_an_unregistered_certificate_is_refused(fronted: Fronted) -> None:
    stranger = fronted.authority.issue("stranger")
    assert "no active gateway" in refusal(await fronted.ask(stranger), 401, "invalid_client")


async def test_a_certificate_removed_from_the_registry_is_refused_on_the_next_request_and_its_successor_reads(
    fronted: Fronted, demo_data_dir: Path
) -> None:
    uscc = uscc_of_first_enterprise(demo_data_dir)["uscc"]
    assert (await fronted.ask(fronted.certificate, u=uscc)).status_code == 200
    successor = fronted.authority.issue("city-gateway-2027")
    await fronted.gateways.add_certificate(fronted.gateway_id, successor.loaded)
    assert (await fronted.ask(successor, u=uscc)).status_code == 200  # both, while the gateway rotates
    assert (await fronted.ask(fronted.certificate, u=uscc)).status_code == 200
    await fronted.gateways.remove_certificate(fronted.gateway_id, fronted.certificate.loaded.thumbprint)
    refusal(await fronted.ask(fronted.certificate, u=uscc), 401, "invalid_client")
    assert (await fronted.ask(successor, u=uscc)).status_code == 200


async def test_a_disabled_gateway_is_refused(fronted: Fronted, demo_data_dir: Path) -> None:
    registry = await fronted.oauth.registry()
    await registry.set_status(fronted.gateway_id, "disabled")
    refusal(await fronted.ask(fronted.certificate, u=uscc_of_first_enterprise(demo_data_dir)["uscc"]),
            401, "invalid_client")


async def test_a_revoked_gateway_grant_holds_from_the_next_request(fronted: Fronted, demo_data_dir: Path) -> None:
    uscc = uscc_of_first_enterprise(demo_data_dir)["uscc"]
    assert (await fronted.ask(fronted.certificate, u=uscc)).json()["data"]["enterprise"]["name"]
    service = await fronted.oauth.grants()
    [grant] = await service.grants(client_id=fronted.gateway_id, active_only=True)
    await service.revoke(OPERATOR, grant.grant_id, "the gateway's agreement ended")
    refusal(await fronted.ask(fronted.certificate, u=uscc), 403, "insufficient_scope")


async def test_a_client_cert_header_from_an_address_not_in_trusted_proxies_is_refused(
    fronted: Fronted, demo_data_dir: Path
) -> None:
    response = await fronted.ask(fronted.certificate, client=fronted.elsewhere,
                                 u=uscc_of_first_enterprise(demo_data_dir)["uscc"])
    assert "trusted_proxies" in refusal(response, 401, "invalid_client")


@pytest.mark.parametrize(("value", "words"), [
    ("MIIB" * 10, "byte sequence"),
    (":not base64!:", "not base64"),
    (":" + base64.b64encode(b"not a certificate").decode() + ":", "not an X.509 certificate"),
    (":" + base64.b64encode(b"\x30" * 20_000).decode() + ":", "1-16384 bytes"),
    ("", "byte sequence"),
])
async def test_a_malformed_client_cert_header_is_refused_saying_why(
    fronted: Fronted, value: str, words: str
) -> None:
    response = await fronted.proxy.post(MARKET, json={"query": "{ __typename }"}, headers={"Client-Cert": value})
    assert words in refusal(response, 401, "invalid_client")


async def test_two_client_cert_headers_are_refused(fronted: Fronted) -> None:
    value = client_cert(fronted.certificate)
    response = await fronted.proxy.post(MARKET, json={"query": "{ __typename }"},
                                        headers=[("Client-Cert", value), ("Client-Cert", value)])
    refusal(response, 401, "invalid_client")


@pytest.mark.parametrize(("header", "value"), [
    ("X-Hub-Purpose", "Licensing; DROP TABLE grants"),
    ("X-Hub-End-User", "clerk" * 20),
    ("X-Hub-Case", "C2026/../../etc"),
    ("X-Hub-Origin-Client", "<script>alert(1)</script>"),
    ("X-Hub-Origin-Token", "not a token at all"),
])
async def test_a_malformed_declaration_is_refused_naming_the_header(fronted: Fronted, header: str, value: str) -> None:
    response = await fronted.proxy.post(MARKET, json={"query": "{ __typename }"}, headers={
        **DECLARED, "Client-Cert": client_cert(fronted.certificate), header: value})
    assert header.lower() in refusal(response, 400, "invalid_request")


async def test_an_origin_that_is_no_registered_system_is_refused(fronted: Fronted) -> None:
    for origin in ("housing-0000000000000000", fronted.gateway_id):
        response = await fronted.proxy.post(MARKET, json={"query": "{ __typename }"}, headers={
            **DECLARED, "Client-Cert": client_cert(fronted.certificate), "X-Hub-Origin-Client": origin})
        assert "no active department system" in refusal(response, 400, "invalid_request")


async def _origin_token(fronted: Fronted, scopes: frozenset[str]) -> tuple[str, str]:
    """A department system's live access token (as it would forward it), and its client id."""
    from hub.client import new_client_key

    system = await fronted.oauth.register("housing", scopes)
    form = fronted.oauth.token_form(system, scope=" ".join(sorted(scopes)))
    response = await fronted.oauth.token_response(form, new_client_key())
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"]), system.client_id


async def test_a_forwarded_system_token_proves_the_origin_and_bounds_the_answer_by_its_grants(
    fronted: Fronted, demo_data_dir: Path
) -> None:
    enterprise = uscc_of_first_enterprise(demo_data_dir)
    token, system_id = await _origin_token(fronted, frozenset({ENTERPRISE}))
    headers = {**DECLARED, "Client-Cert": client_cert(fronted.certificate), "X-Hub-Origin-Token": token}
    body = (await fronted.proxy.post(MARKET, json={"query": QUERY, "variables": {"u": enterprise["uscc"]}},
                                     headers=headers)).json()
    # The gateway may read legal representatives; the system it acts for may not: the field does not exist.
    assert body["errors"][0]["message"] == "Cannot query field 'legalRepresentative' on type 'Enterprise'."
    narrow = "query($u: String!) { enterprise(uscc: $u) { name } }"
    body = (await fronted.proxy.post(MARKET, json={"query": narrow, "variables": {"u": enterprise["uscc"]}},
                                     headers=headers)).json()
    assert body["data"]["enterprise"]["name"] == enterprise["name"]
    [access] = await who_accessed(fronted.hub.disclosures.store, enterprise["uscc"])
    assert (access.gateway, access.origin_client, access.origin_proven) == (fronted.gateway_id, system_id, True)


async def test_a_forwarded_token_for_another_system_than_the_declared_one_is_refused(fronted: Fronted) -> None:
    token, _ = await _origin_token(fronted, frozenset({ENTERPRISE}))
    other = await fronted.oauth.register("taxation", frozenset({ENTERPRISE}))
    response = await fronted.proxy.post(MARKET, json={"query": "{ __typename }"}, headers={
        **DECLARED, "Client-Cert": client_cert(fronted.certificate), "X-Hub-Origin-Token": token,
        "X-Hub-Origin-Client": other.client_id})
    assert "another system" in refusal(response, 400, "invalid_request")


async def test_a_forwarded_token_that_is_not_live_is_refused(fronted: Fronted) -> None:
    token, _ = await _origin_token(fronted, frozenset({ENTERPRISE}))
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    response = await fronted.proxy.post(MARKET, json={"query": "{ __typename }"}, headers={
        **DECLARED, "Client-Cert": client_cert(fronted.certificate), "X-Hub-Origin-Token": forged})
    assert "X-Hub-Origin-Token" in refusal(response, 401, "invalid_token")


async def test_a_gateway_certificate_opens_no_door_at_graphql(fronted: Fronted) -> None:
    response = await fronted.ask(fronted.certificate, path="/graphql")
    refusal(response, 401, "invalid_token")


async def test_subgraph_traffic_is_counted_by_subgraph_and_gateway(fronted: Fronted, demo_data_dir: Path) -> None:
    uscc = uscc_of_first_enterprise(demo_data_dir)["uscc"]
    await fronted.ask(fronted.certificate, u=uscc)
    await fronted.ask(fronted.authority.issue("stranger"), u=uscc)
    metrics = fronted.hub.metrics
    assert metrics.value("hub_subgraph_requests_total", subgraph="market", gateway=fronted.gateway_id,
                         status="200") == 1
    assert metrics.value("hub_subgraph_requests_total", subgraph="market", gateway="", status="401") == 1
    assert metrics.value("hub_subgraph_request_seconds_count", subgraph="market", gateway=fronted.gateway_id) == 1
    text = (await fronted.proxy.get("/metrics")).text
    assert f'hub_subgraph_requests_total{{gateway="{fronted.gateway_id}",status="200",subgraph="market"}} 1.0' in text


async def test_the_proxy_is_known_by_the_connection_not_by_a_forwarded_for_header(
    fronted: Fronted, demo_data_dir: Path
) -> None:
    uscc = uscc_of_first_enterprise(demo_data_dir)["uscc"]
    headers = {**DECLARED, "Client-Cert": client_cert(fronted.certificate)}
    query = {"query": QUERY, "variables": {"u": uscc}}
    # Through the proxy, which names the gateway's own address: believed.
    through = await fronted.proxy.post(MARKET, json=query, headers={**headers, "X-Forwarded-For": "198.51.100.4"})
    assert through.status_code == 200, through.text
    # From elsewhere, claiming to come from the proxy: not believed.
    forged = await fronted.elsewhere.post(MARKET, json=query, headers={**headers, "X-Forwarded-For": PROXY})
    assert "trusted_proxies" in refusal(forged, 401, "invalid_client")


async def test_a_gateways_request_span_names_the_subgraph_and_the_gateway(
    fronted: Fronted, demo_data_dir: Path
) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    fronted.hub.telemetry.tracer = provider.get_tracer("test")
    await fronted.ask(fronted.certificate, u=uscc_of_first_enterprise(demo_data_dir)["uscc"])
    [request] = [span for span in exported.get_finished_spans() if span.name == "graphql.request"]
    assert request.attributes is not None
    assert (request.attributes["hub.subgraph"], request.attributes["hub.gateway"]) == ("market", fronted.gateway_id)
    assert request.attributes["hub.client"] == fronted.gateway_id
