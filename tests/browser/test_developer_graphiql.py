"""A developer's GraphiQL in a real Chromium, with every outside request blocked.

The developer signs in by typing, picks their client and a purpose, and GraphiQL opens with a token
the console issued for that client: its schema explorer shows only what the client's grants reach,
a typed query returns the client's data masked where the policy says, each request to /graphql
carries the token, a DPoP proof and the purpose and no cookie, the DPoP key is made
non-extractable, a token cut off is replaced by a new one, and a revoked grant is gone on the next
request. Screenshots go to ``tests/artifacts/developer-*.png``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from hub.accounts.store import Accounts
from hub.app import create_app
from hub.client import new_client_key
from hub.demo.services import serve_in_thread
from hub.grants import Actor, GrantService, load_grant_catalogue
from hub.graphql import graphiql
from hub.settings import Settings, load_settings
from hub.store import Registry, connect, migrate
from hub.store.admin_log import admin_actions
from tests.browser.conftest import ARTIFACTS, free_port, in_thread, sign_in

pytestmark = pytest.mark.browser

PASSWORD = "developer's long password"
OPERATOR = Actor("olga", "operator")
RUN_BUTTON = "Execute query (Ctrl-Enter)"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
BAND = re.compile(r'"registeredCapital": "(<\d+|\d+-\d+|>=\d+)"')
# Records what the page asks of WebCrypto, before any of its scripts runs.
WATCH_WEBCRYPTO = """
window.__dpopKeys = [];
const generate = crypto.subtle.generateKey.bind(crypto.subtle);
crypto.subtle.generateKey = async (algorithm, extractable, usages) => {
  const made = await generate(algorithm, extractable, usages);
  window.__dpopKeys.push({ extractable, privateExtractable: made.privateKey.extractable, curve: algorithm.namedCurve });
  return made;
};
"""


@dataclass
class Seeded:
    client_id: str
    other_client_id: str
    uscc: str
    name: str


@dataclass
class Sandbox:
    base: str
    settings: Settings
    seeded: Seeded
    app: Any


def _assets_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = load_settings(environment="development").graphiql_assets_dir
    if graphiql.installed(configured):
        return configured
    if shutil.which("npm") is None:
        message = f"GraphiQL assets are not installed in {configured} and npm is missing to fetch them"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    directory = tmp_path_factory.mktemp("graphiql-assets")
    graphiql.install(directory)
    return directory


def _an_enterprise(demo_data_dir: Path) -> tuple[str, str]:
    with sqlite3.connect(demo_data_dir / "market.sqlite") as conn:
        uscc, name = conn.execute(
            "SELECT uscc, name FROM enterprises WHERE substr(uscc, 3, 4) = '1302' ORDER BY uscc LIMIT 1"
        ).fetchone()
    return uscc, name


async def _seed(settings: Settings, uscc: str, name: str) -> Seeded:
    engine = connect(settings.registry_url)
    try:
        await migrate(engine)
        registry = Registry(engine)
        await registry.add_department("market", "Market Regulation", "1302")
        public = {k: v for k, v in new_client_key().items() if k != "d"}
        mine = await registry.register_client("market", "licensing system", public)
        other = await registry.register_client("market", "inspection system", public)
        grants = GrantService(engine, load_grant_catalogue(settings.policies_dir))
        for client in (mine, other):
            await grants.grant_now(OPERATOR, client.client_id, {"market.enterprise:read"}, ("licensing",), "test", 30)
        await grants.grant_now(OPERATOR, mine.client_id, {"market.food_licence:read"}, ("licensing",), "test", 30)
        await Accounts(engine).create("dev", "Dana Developer", "developer", PASSWORD, "market",
                                      frozenset({mine.client_id}))
    finally:
        await engine.dispose()
    return Seeded(mine.client_id, other.client_id, uscc, name)


@contextmanager
def _serve_sandbox(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory, **overrides: Any) -> Iterator[Sandbox]:
    port = free_port()
    settings = load_settings(
        environment="development", port=port, demo_data_dir=demo_data_dir,
        state_dir=tmp_path_factory.mktemp("developer-state"), graphiql_assets_dir=_assets_dir(tmp_path_factory),
        **overrides,
    )
    uscc, name = _an_enterprise(demo_data_dir)
    seeded = in_thread(lambda: _seed(settings, uscc, name))
    app = create_app(settings)
    with serve_in_thread(app, port=port) as running:
        yield Sandbox(running.url, settings, seeded, app)


@pytest.fixture(scope="module")
def sandbox(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with _serve_sandbox(demo_data_dir, tmp_path_factory) as running:
        yield running


@pytest.fixture(scope="module")
def nonce_sandbox(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A hub that asks every DPoP proof for its server-provided nonce (RFC 9449 section 8)."""
    with _serve_sandbox(demo_data_dir, tmp_path_factory, dpop_nonce=True) as running:
        yield running


@dataclass
class Watched:
    page: Any
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    graphql: list[dict[str, str]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


@pytest.fixture
def watched(browser: Any) -> Iterator[Watched]:
    """A page that may reach only this machine, with its errors and its /graphql requests recorded."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    found = Watched(page)

    def route(route: Any) -> None:
        parts = urlsplit(route.request.url)
        if parts.scheme in ("data", "blob") or (parts.hostname or "") in LOCAL_HOSTS:
            route.continue_()
        else:
            found.blocked.append(route.request.url)
            route.abort("blockedbyclient")

    def seen(request: Any) -> None:
        if urlsplit(request.url).path == "/graphql":
            found.graphql.append(request.all_headers())

    def answered(response: Any) -> None:
        if urlsplit(response.url).path == "/graphql":
            found.statuses.append(response.status)

    context.route("**/*", route)
    context.route_web_socket(re.compile(".*"), lambda socket: (found.blocked.append(socket.url), socket.close()))
    context.add_init_script(WATCH_WEBCRYPTO)
    page.on("pageerror", lambda error: found.errors.append(str(error)))
    page.on("console", lambda msg: found.errors.append(msg.text) if msg.type == "error" else None)
    page.on("request", seen)
    page.on("response", answered)
    try:
        yield found
    finally:
        context.close()


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"developer-{name}.png"))


def _type_query(page: Any, query: str) -> None:
    editor = page.locator(".graphiql-query-editor .CodeMirror")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(query)  # CodeMirror closes brackets as they open and types over a closer
    page.keyboard.press("Escape")
    typed = page.evaluate("() => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue()")
    assert typed == query


def _run(page: Any) -> Any:
    page.get_by_role("button", name=RUN_BUTTON).click()
    return page.locator(".graphiql-response")


def _open_graphiql(page: Any, sandbox: Sandbox) -> None:
    from playwright.sync_api import expect

    base = sandbox.base
    sign_in(page, base, "dev", PASSWORD, "/admin/developer")  # and the console switched to English
    expect(page.locator("h1")).to_have_text("GraphiQL for your clients")
    expect(page.locator(f"#client-{sandbox.seeded.other_client_id}")).to_have_count(0)  # not theirs: not offered
    card = page.locator(f"#client-{sandbox.seeded.client_id}")
    expect(card).to_contain_text("market.enterprise:read, market.food_licence:read")
    _shot(page, "clients")
    card.get_by_label("Purpose").select_option("licensing")
    card.get_by_role("button", name=f"Open GraphiQL as {sandbox.seeded.client_id}").click()
    expect(page.locator("#token-status")).to_contain_text("valid until")
    expect(page.locator(".graphiql-query-editor .CodeMirror")).to_be_visible()


def _issued(settings: Settings) -> list[Any]:
    async def work() -> list[Any]:
        engine = connect(settings.registry_url)
        try:
            return await admin_actions(engine, action="developer.token", limit=50)
        finally:
            await engine.dispose()

    return in_thread(work)


def test_a_developer_explores_and_queries_the_graph_as_their_client_with_no_outside_request(
    watched: Watched, sandbox: Sandbox
) -> None:
    from playwright.sync_api import expect

    page, seeded = watched.page, sandbox.seeded
    _open_graphiql(page, sandbox)
    assert page.evaluate("() => window.__dpopKeys") == [
        {"extractable": False, "privateExtractable": False, "curve": "P-256"}
    ]

    page.get_by_role("button", name="Show Documentation Explorer").click()
    explorer = page.locator(".graphiql-doc-explorer")
    search = explorer.locator(".graphiql-doc-explorer-search input")
    search.press_sequentially("FoodBusiness")  # granted: found
    expect(explorer.locator("[data-cy=doc-explorer-option]").first).to_contain_text("FoodBusinessLicence")
    search.fill("")
    search.press_sequentially("PollutantDischarge")  # ecology.discharge_permit:read is not granted
    expect(explorer.locator(".graphiql-doc-explorer-search-empty")).to_have_text("No results found")
    search.fill("")
    page.keyboard.press("Escape")
    explorer.get_by_role("link", name="Query").click()
    expect(explorer).to_contain_text("enterprises")
    expect(explorer).to_contain_text("licences")
    expect(explorer).not_to_contain_text("cases")  # centre.case:read is not granted
    _shot(page, "explorer")

    _type_query(page, f'{{ enterprise(uscc: "{seeded.uscc}") {{ uscc name registeredCapital }} }}')
    response = _run(page)
    expect(response).to_contain_text(seeded.name)
    expect(response).to_contain_text(seeded.uscc)
    expect(response).to_contain_text(BAND)  # the capital as a band: market.finance:read is not granted
    expect(response).not_to_contain_text('"errors"')
    _shot(page, "query")

    assert watched.graphql, "GraphiQL sent nothing to /graphql"
    for headers in watched.graphql:
        assert headers["authorization"].startswith("DPoP ") and headers["dpop"].count(".") == 2
        assert headers["x-hub-purpose"] == "licensing" and headers["x-hub-end-user"] == "dev"
        assert "cookie" not in headers
        header, claims = _proof_parts(headers["dpop"])
        assert (header["typ"], header["alg"], sorted(header["jwk"])) == ("dpop+jwt", "ES256", ["crv", "kty", "x", "y"])
        assert claims["htm"] == "POST" and claims["htu"] == f"{sandbox.base}/graphql"
        assert {"iat", "jti", "ath"} <= set(claims)
    [entry] = [e for e in _issued(sandbox.settings) if e.target == seeded.client_id]
    assert entry.actor == "dev" and entry.details["scopes"] == ["market.enterprise:read", "market.food_licence:read"]
    assert watched.blocked == [], f"the page needed outside resources: {watched.blocked}"
    assert watched.errors == []


def test_a_token_cut_off_is_replaced_and_a_revoked_grant_is_gone_on_the_next_request(
    watched: Watched, sandbox: Sandbox
) -> None:
    from playwright.sync_api import expect

    page, seeded = watched.page, sandbox.seeded
    before = len(_issued(sandbox.settings))
    _open_graphiql(page, sandbox)
    food = "{ licences(first: 1, kind: FOOD_BUSINESS) { edges { node { __typename number } } } }"
    _type_query(page, food)
    expect(_run(page)).to_contain_text("FoodBusinessLicence")

    latest = _issued(sandbox.settings)[0]
    in_thread(lambda: _revoke_token(sandbox, latest.details["jti"], seeded.client_id, latest.details["expires_at"]))
    _type_query(page, food.replace("number", "number validTo"))
    expect(_run(page)).to_contain_text("validTo")  # answered: the page took a new token and retried
    assert len(_issued(sandbox.settings)) == before + 2

    in_thread(lambda: _revoke_grant(sandbox, seeded.client_id, "market.food_licence:read"))
    _type_query(page, food)
    response = _run(page)
    expect(response).to_contain_text("Cannot query field 'licences'")
    expect(response).not_to_contain_text("FoodBusinessLicence")
    page.get_by_role("button", name="Re-fetch GraphQL schema").click()  # the explorer follows
    expect(page.locator("#sandbox-scopes")).to_have_text("market.enterprise:read")
    page.get_by_role("button", name="Show Documentation Explorer").click()
    search = page.locator(".graphiql-doc-explorer-search input")
    search.press_sequentially("FoodBusiness")
    expect(page.locator(".graphiql-doc-explorer-search-empty")).to_have_text("No results found")
    _shot(page, "revoked")
    assert watched.blocked == []


async def _revoke_token(sandbox: Sandbox, jti: str, client_id: str, expires_at: int) -> None:
    engine = connect(sandbox.settings.registry_url)
    try:
        await Registry(engine).revoke_token(jti, client_id, expires_at)
    finally:
        await engine.dispose()


async def _revoke_grant(sandbox: Sandbox, client_id: str, scope: str) -> None:
    engine = connect(sandbox.settings.registry_url)
    try:
        service = GrantService(engine, load_grant_catalogue(sandbox.settings.policies_dir))
        for grant in await service.grants(client_id=client_id):
            if scope in grant.scopes and grant.status == "active":
                await service.revoke(OPERATOR, grant.grant_id, "no longer needed")
    finally:
        await engine.dispose()


def test_a_hub_asking_for_dpop_nonces_gets_them_from_the_page(watched: Watched, nonce_sandbox: Sandbox) -> None:
    from playwright.sync_api import expect

    page, seeded = watched.page, nonce_sandbox.seeded
    _open_graphiql(page, nonce_sandbox)
    _type_query(page, f'{{ enterprise(uscc: "{seeded.uscc}") {{ name }} }}')
    expect(_run(page)).to_contain_text(seeded.name)
    assert watched.statuses[0] == 401 and watched.statuses[-1] == 200  # told the nonce once, then used it
    assert "nonce" not in _proof_claims(watched.graphql[0]["dpop"])
    assert _proof_claims(watched.graphql[-1]["dpop"])["nonce"]
    assert watched.blocked == []


def _proof_parts(proof: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload = (json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))) for p in proof.split(".")[:2])
    return header, payload


def _proof_claims(proof: str) -> dict[str, Any]:
    return _proof_parts(proof)[1]
