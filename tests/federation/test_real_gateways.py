"""Apollo Gateway and Hive Gateway in front of a production hub, over mutual TLS.

The hub runs for real in production settings, TLS ending in it (``hub.federation.tls``); both
gateways compose the six subgraphs (Apollo's and The Guild's composers) and present the registered
gateway's client certificate. A department system with the same grants asks /graphql with its DPoP
token; each gateway must give the same answers, and its requests are on the disclosure record as
the gateway's, with what it declared. Certificates that are missing, unknown or removed, and a
revoked grant, are refused from the next request on.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.app import create_app
from hub.composition import Hub
from hub.client import HubAuth, new_client_key
from hub.demo.services import serve_in_thread
from hub.federation.tls import server_context_options
from hub.grants import GrantService
from hub.oauth.clock import Clock
from hub.policy.catalogue import full_scope_catalogue
from hub.settings import load_settings
from hub.store import Registry, connect, migrate
from hub.store.gateways import Gateways
from hub.store.sealing import new_key_encryption_key
from schema.subgraphs import DEPARTMENTS
from tests.conftest import DEMO_AS_OF
from tests.federation.conftest import PEERS, _await_url, compose, require_node
from tests.federation.pki import Authority, Issued
from tests.federation.test_gateway import CASES, ENTERPRISE, LICENCE, LICENCES_IN_REGION, PERSON
from tests.graph.conftest import DepartmentServices
from tests.oauth.conftest import OPERATOR, grant_catalogue

pytestmark = pytest.mark.slow

DECLARED = {"X-Hub-End-User": "clerk-0042", "X-Hub-Purpose": "licensing", "X-Hub-Case": "C2026112600017"}
GATEWAYS = {"apollo": "gateway.mjs", "hive": "hive_gateway.mjs"}
COMPOSERS = {"apollo": "apollo", "hive": "guild"}
PURPOSES = ("licensing", "case_handling")
# The cross-department queries reach cases and identity checks: asked for case handling, where no
# purpose covers every field (tax registrations are not shared for it), so both answers carry the
# same FORBIDDEN errors beside the same data.
COMPARED_PURPOSE = "case_handling"


@dataclass
class Registered:
    database: Path
    gateway_id: str
    system_id: str
    system_key: dict[str, Any]
    scopes: frozenset[str]


async def _register(url: str, gateway: Issued, scopes: frozenset[str]) -> tuple[str, str, dict[str, Any]]:
    """A centre gateway and a centre system, each granted every scope of the catalogue for licensing."""
    engine = connect(url)
    try:
        await migrate(engine)
        registry = Registry(engine)
        owners = sorted({scope.split(".", 1)[0] for scope in scopes} | {"centre"})
        for name in owners:
            await registry.add_department(name, name.title())
        key = new_client_key()
        system = await registry.register_client("centre", "Centre system", {k: v for k, v in key.items() if k != "d"})
        client = await Gateways(engine).register("centre", "City gateway", gateway.loaded)
        await _grant(engine, [client.client_id, system.client_id], scopes)
        return client.client_id, system.client_id, key
    finally:
        await engine.dispose()


async def _grant(engine: Any, clients: list[str], scopes: frozenset[str]) -> None:
    service = GrantService(engine, grant_catalogue(), Clock())
    for client_id in clients:
        for owner in sorted({scope.split(".", 1)[0] for scope in scopes}):
            owned = {scope for scope in scopes if scope.startswith(owner + ".")}
            await service.grant_now(OPERATOR, client_id, owned, PURPOSES, "gateway test", 30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Fronted:
    hub: Hub
    url: str
    authority: Authority
    gateway: Issued
    registered: Registered
    system: HubAuth
    gateway_urls: dict[str, str]

    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.authority.path))

    def own(self, query: str, variables: dict[str, Any] | None = None, purpose: str = "licensing") -> dict[str, Any]:
        with httpx.Client(verify=self.tls(), timeout=30) as client:
            response = client.post(self.url + "/graphql", json={"query": query, "variables": variables},
                                   headers={"X-Hub-Purpose": purpose}, auth=self.system)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def through(self, gateway: str, query: str, variables: dict[str, Any] | None = None,
                url: str | None = None, **headers: str) -> dict[str, Any]:
        response = httpx.post(url or self.gateway_urls[gateway], json={"query": query, "variables": variables},
                              headers={**DECLARED, **headers}, timeout=60)
        return response.json()  # type: ignore[no-any-return]


def _start(node: str, kind: str, supergraph: Path, log: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    with log.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen([node, str(PEERS / GATEWAYS[kind]), str(supergraph)], stdout=subprocess.PIPE,
                                   stderr=stderr, text=True, env={**os.environ, **env})
    try:
        return process, _await_url(process, log)
    except BaseException:
        _stop(process)
        raise


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def fronted(
    tmp_path_factory: pytest.TempPathFactory, demo_data_dir: Path, services: DepartmentServices
) -> Iterator[Fronted]:
    node = require_node()
    if not (PEERS / "node_modules" / "@graphql-hive" / "gateway-runtime").is_dir():
        pytest.fail("Hive Gateway is not installed (npm ci --prefix tests/peers)") if os.environ.get("CI") else \
            pytest.skip("Hive Gateway is not installed (npm ci --prefix tests/peers)")
    directory = tmp_path_factory.mktemp("real-gateways")
    authority, port = Authority(directory), _free_port()
    server, gateway = authority.issue("hub-server", server=True), authority.issue("city-gateway")
    database = directory / "hub.sqlite"
    settings = load_settings(
        environment="production", issuer=f"https://127.0.0.1:{port}", database_url=f"sqlite+aiosqlite:///{database}",
        demo_data_dir=demo_data_dir, single_process=True, key_encryption_key=new_key_encryption_key(),
        today=DEMO_AS_OF, sources={"ecology": {"url": services.ecology.url},
                                   "security": {"url": services.security.url + "/graphql"}},
    )
    scopes = full_scope_catalogue(settings.bindings_dir, settings.policies_dir)
    gateway_id, system_id, key = asyncio.run(_register(settings.registry_url, gateway, scopes))
    app = create_app(settings)
    running = serve_in_thread(app, port=port, **server_context_options(
        str(server.certificate), str(server.key), str(authority.path)))
    processes: list[subprocess.Popen[str]] = []
    try:
        urls = {}
        env = {"HUB_GATEWAY_CA": str(authority.path), "HUB_GATEWAY_CERT": str(gateway.certificate),
               "HUB_GATEWAY_KEY": str(gateway.key)}
        for kind in GATEWAYS:
            process, urls[kind] = _start(node, kind, _supergraph(kind, running.url, directory), directory / f"{kind}.log",
                                         env)
            processes.append(process)
        system = HubAuth(f"{running.url}/oauth/token", system_id, key, f"{running.url}/graphql", " ".join(sorted(scopes)))
        registered = Registered(database, gateway_id, system_id, key, scopes)
        yield Fronted(app.state.hub, running.url, authority, gateway, registered, system, urls)
    finally:
        for process in processes:
            _stop(process)
        running.stop()


def _supergraph(kind: str, hub_url: str, directory: Path) -> Path:
    composed = compose(COMPOSERS[kind], {d: f"{hub_url}/subgraphs/{d}/graphql" for d in DEPARTMENTS})
    assert not composed["errors"], composed["errors"]
    path = directory / f"{kind}-supergraph.graphql"
    path.write_text(composed["supergraphSdl"], encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def keys(fronted: Fronted) -> dict[str, Any]:
    """An enterprise with licences of several kinds and cases, found through /graphql by the system."""
    page = fronted.own(
        "{ enterprises(first: 200) { edges { node { uscc legalRepresentative { idNumber } "
        "licences { __typename number regionCode } cases { number } } } } }", purpose=COMPARED_PURPOSE,
    )["data"]["enterprises"]["edges"]
    best = max(page, key=lambda e: (len({lic["__typename"] for lic in e["node"]["licences"]}), len(e["node"]["cases"])))
    permit = next(lic for e in page for lic in e["node"]["licences"] if lic["__typename"] == "ConstructionPermit")
    return {"uscc": best["node"]["uscc"], "person": best["node"]["legalRepresentative"]["idNumber"],
            "licence": permit["number"], "region": permit["regionCode"][:4] + "00"}


def _codes(answer: dict[str, Any]) -> set[str]:
    return {e.get("extensions", {}).get("code", "") for e in answer.get("errors", [])}


def _same_answer(fronted: Fronted, gateway: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    own = fronted.own(query, variables, purpose=COMPARED_PURPOSE)
    through = fronted.through(gateway, query, variables, **{"X-Hub-Purpose": COMPARED_PURPOSE})
    assert _codes(own) <= {"FORBIDDEN"}, own["errors"]
    assert through["data"] == own["data"], through.get("errors")
    assert _codes(through) == _codes(own), through.get("errors")
    return own["data"]


@pytest.mark.parametrize("gateway", sorted(GATEWAYS))
def test_the_readmes_cross_department_queries_answer_as_graphql_does(
    fronted: Fronted, keys: dict[str, Any], gateway: str
) -> None:
    data = _same_answer(fronted, gateway, ENTERPRISE, {"uscc": keys["uscc"]})
    assert len({lic["__typename"] for lic in data["enterprise"]["licences"]}) >= 2
    assert data["enterprise"]["cases"] and data["enterprise"]["legalRepresentative"]["identityVerification"]
    _same_answer(fronted, gateway, LICENCE, {"number": keys["licence"]})
    first = _same_answer(fronted, gateway, LICENCES_IN_REGION, {"region": keys["region"]})["licences"]
    _same_answer(fronted, gateway, LICENCES_IN_REGION, {"region": keys["region"], "after": first["pageInfo"]["endCursor"]})
    _same_answer(fronted, gateway, CASES)
    _same_answer(fronted, gateway, PERSON, {"id": keys["person"]})


def _records(fronted: Fronted, end_user: str) -> list[dict[str, Any]]:
    """The disclosure records a gateway made for ``end_user``, read from the audit table itself."""
    with sqlite3.connect(fronted.registered.database) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute("SELECT * FROM audit_records WHERE gateway IS NOT NULL AND end_user = ? ORDER BY seq",
                          (end_user,))
        return [dict(row) for row in rows]


@pytest.mark.parametrize("gateway", sorted(GATEWAYS))
def test_the_record_names_the_gateway_and_what_it_declared(fronted: Fronted, keys: dict[str, Any], gateway: str) -> None:
    answer = fronted.through(gateway, "query($u: String!) { enterprise(uscc: $u) { name taxRegistration { status } } }",
                             {"u": keys["uscc"]}, **{"X-Hub-Origin-Client": fronted.registered.system_id,
                                                     "X-Hub-End-User": f"clerk-via-{gateway}"})
    assert "errors" not in answer and answer["data"]["enterprise"]["name"]
    records = _records(fronted, f"clerk-via-{gateway}")
    assert records, "each subgraph the gateway asked recorded its disclosure"
    for record in records:
        assert (record["client_id"], record["gateway"], record["department"]) == (
            fronted.registered.gateway_id, fronted.registered.gateway_id, "centre")
        assert (record["end_user"], record["purpose"], record["case_number"]) == (
            f"clerk-via-{gateway}", "licensing", "C2026112600017")
        assert (record["origin_client"], record["origin_proven"]) == (fronted.registered.system_id, 0)
    metrics = fronted.hub.metrics
    assert metrics.value("hub_subgraph_requests_total", subgraph="taxation", gateway=fronted.registered.gateway_id,
                         status="200") >= 1


@pytest.mark.parametrize("gateway", sorted(GATEWAYS))
@pytest.mark.parametrize("certificate", ["none", "unregistered"])
def test_a_gateway_without_its_registered_certificate_is_refused(
    fronted: Fronted, keys: dict[str, Any], gateway: str, certificate: str, tmp_path: Path
) -> None:
    env = {"HUB_GATEWAY_CA": str(fronted.authority.path)}
    if certificate == "unregistered":
        stranger = fronted.authority.issue(f"stranger-{gateway}")
        env.update(HUB_GATEWAY_CERT=str(stranger.certificate), HUB_GATEWAY_KEY=str(stranger.key))
    supergraph = tmp_path / "supergraph.graphql"
    supergraph.write_text(_supergraph(gateway, fronted.url, tmp_path).read_text(encoding="utf-8"), encoding="utf-8")
    refused = fronted.hub.metrics.value("hub_subgraph_requests_total", subgraph="market", gateway="", status="401")
    process, url = _start(require_node(), gateway, supergraph, tmp_path / "gateway.log", env)
    try:
        answer = fronted.through(gateway, "query($u: String!) { enterprise(uscc: $u) { name } }",
                                 {"u": keys["uscc"]}, url=url)
    finally:
        _stop(process)
    assert not (answer.get("data") or {}).get("enterprise") and answer["errors"]
    assert fronted.hub.metrics.value("hub_subgraph_requests_total", subgraph="market", gateway="",
                                     status="401") == refused + 1


def _registry_change(fronted: Fronted, change: Any) -> None:
    async def run() -> None:
        engine = connect(f"sqlite+aiosqlite:///{fronted.registered.database}")
        try:
            await change(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_a_revoked_gateway_grant_holds_from_the_next_request_then_a_removed_certificate(
    fronted: Fronted, keys: dict[str, Any]
) -> None:
    query, variables = "query($u: String!) { enterprise(uscc: $u) { name } }", {"u": keys["uscc"]}
    for gateway in GATEWAYS:
        answer = fronted.through(gateway, query, variables)
        assert (answer.get("data") or {}).get("enterprise"), (gateway, answer)

    async def revoke_enterprise_grant(engine: Any) -> None:
        service = GrantService(engine, grant_catalogue(), Clock())
        for grant in await service.grants(client_id=fronted.registered.gateway_id, active_only=True):
            if grant.owner_department == "market":
                await service.revoke(OPERATOR, grant.grant_id, "the gateway's agreement with the market bureau ended")

    _registry_change(fronted, revoke_enterprise_grant)
    for gateway in GATEWAYS:
        answer = fronted.through(gateway, query, variables)
        assert not (answer.get("data") or {}).get("enterprise") and answer["errors"], answer

    async def remove_certificate(engine: Any) -> None:
        await Gateways(engine).remove_certificate(fronted.registered.gateway_id, fronted.gateway.loaded.thumbprint)

    _registry_change(fronted, remove_certificate)
    refused = fronted.hub.metrics.value("hub_subgraph_requests_total", subgraph="market", gateway="", status="401")
    for gateway in GATEWAYS:
        answer = fronted.through(gateway, query, variables)
        assert not (answer.get("data") or {}).get("enterprise") and answer["errors"], answer
    # Each gateway's next request was refused at the door (401), no longer for want of a grant.
    assert fronted.hub.metrics.value("hub_subgraph_requests_total", subgraph="market", gateway="",
                                     status="401") >= refused + len(GATEWAYS)
