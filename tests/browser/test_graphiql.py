"""GraphiQL works offline: a real Chromium loads the hub's page with every outside request blocked.

The hub runs over HTTP in a thread (development settings, so GraphiQL is on); Chromium, driven by
Playwright, may reach only 127.0.0.1 / localhost / ``data:`` / ``blob:``. Anything else is aborted and
recorded, and the test fails if the page asked for anything outside. A user's steps: type a query,
press the run button, read the enterprise's name in the result pane. The screenshot is kept in
``tests/artifacts/graphiql.png``.

These tests run last (``tests/conftest.py`` moves them): sync Playwright leaves an asyncio loop
running on the main thread, which breaks any asyncio test after it.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from hub.app import create_app
from hub.demo.services import RunningService, serve_in_thread
from hub.graphql import graphiql
from hub.graphql.graphiql import ASSET_PATH, ASSETS
from hub.settings import load_settings
from hub.store.sealing import new_key_encryption_key
from tests.browser.conftest import ARTIFACTS
from tests.graph.conftest import DepartmentServices, hub_settings

pytestmark = pytest.mark.browser

LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
RUN_BUTTON = "Execute query (Ctrl-Enter)"
PRETTIFY_BUTTON = "Prettify query (Shift-Ctrl-P)"
TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def graphiql_assets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The assets directory from settings when ``hub graphiql install`` filled it, else a fresh one."""
    # Development: the settings file and HUB_* variables apply, production's own requirements do not.
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


def _serve(settings: Any) -> RunningService:
    return serve_in_thread(create_app(settings))


@pytest.fixture(scope="module")
def dev_hub(demo_data_dir: Path, services: DepartmentServices, graphiql_assets: Path) -> Iterator[str]:
    settings = hub_settings(
        demo_data_dir, services.ecology.url, services.security.url, graphiql_assets_dir=graphiql_assets
    )
    assert settings.graphiql_enabled
    with _serve(settings) as running:
        yield running.url


@pytest.fixture(scope="module")
def production_hub(
    demo_data_dir: Path, services: DepartmentServices, graphiql_assets: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    tmp_state = tmp_path_factory.mktemp("production-state")
    settings = hub_settings(
        demo_data_dir, services.ecology.url, services.security.url, graphiql_assets_dir=graphiql_assets
    )
    # What production must have to start at all (keys, an https issuer, a registry); GraphiQL's
    # switch is what this is about.
    settings = replace(
        settings, environment="production", anonymous_access=False, issuer="https://hub.test",
        key_encryption_key=new_key_encryption_key(), database_url=f"sqlite+aiosqlite:///{tmp_state / 'hub.sqlite'}",
        single_process=True,
    )
    assert settings.graphiql is None and not settings.graphiql_enabled
    with _serve(settings) as running:
        yield running.url


def _local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob"):
        return True
    return parts.scheme in ("http", "https", "ws", "wss") and (parts.hostname or "") in LOCAL_HOSTS


@dataclass
class OfflinePage:
    page: Any
    blocked: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


@pytest.fixture
def offline_page(browser: Any) -> Iterator[OfflinePage]:
    """A page whose every request, websockets included, must stay on this machine."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    offline = OfflinePage(page)

    def route(route: Any) -> None:
        url = route.request.url
        if _local(url):
            route.continue_()
        else:
            offline.blocked.append(url)
            route.abort("blockedbyclient")

    def route_socket(socket: Any) -> None:
        if _local(socket.url):
            socket.connect_to_server()
        else:
            offline.blocked.append(socket.url)
            socket.close()

    context.route("**/*", route)
    context.route_web_socket(re.compile(".*"), route_socket)
    page.on("pageerror", lambda error: offline.page_errors.append(str(error)))
    page.on("console", lambda msg: offline.console_errors.append(msg.text) if msg.type == "error" else None)
    try:
        yield offline
    finally:
        context.close()


def _an_enterprise(demo_data_dir: Path) -> tuple[str, str]:
    with sqlite3.connect(demo_data_dir / "market.sqlite") as conn:
        uscc, name = conn.execute("SELECT uscc, name FROM enterprises ORDER BY uscc LIMIT 1").fetchone()
    return uscc, name


def _editor_text(page: Any) -> str:
    return page.evaluate(
        "() => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue()"
    )


def test_graphiql_runs_a_typed_query_with_no_outside_request(
    offline_page: OfflinePage, dev_hub: str, demo_data_dir: Path
) -> None:
    from playwright.sync_api import expect

    page = offline_page.page
    uscc, name = _an_enterprise(demo_data_dir)
    query = f'{{ enterprise(uscc: "{uscc}") {{ uscc name }} }}'

    page.goto(f"{dev_hub}/graphql")
    editor = page.locator(".graphiql-query-editor .CodeMirror")
    expect(editor).to_be_visible()
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    assert _editor_text(page) == ""
    # CodeMirror closes brackets and quotes as they open, and types over a closer when one is typed:
    # typing the whole query leaves exactly the query (checked, not assumed).
    page.keyboard.type(query)
    page.keyboard.press("Escape")  # close any completion list still open
    assert _editor_text(page) == query
    page.get_by_role("button", name=PRETTIFY_BUTTON).click()  # one line scrolls off; laid out, it reads
    assert " ".join(_editor_text(page).split()) == query

    page.get_by_role("button", name=RUN_BUTTON).click()
    response = page.locator(".graphiql-response")
    expect(response).to_contain_text(name)
    expect(response).to_contain_text(uscc)
    expect(response).not_to_contain_text('"errors"')

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "graphiql.png"))
    assert offline_page.blocked == [], f"the page needed outside resources: {offline_page.blocked}"
    assert offline_page.page_errors == []
    assert offline_page.console_errors == []


def test_graphiql_page_assets_carry_integrity_matching_the_served_files(dev_hub: str) -> None:
    with httpx.Client(base_url=dev_hub, timeout=10) as client:
        page = client.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        tags = re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"[^>]*\bintegrity="([^"]+)"', page.text)
        assert sorted(url for url, _ in tags) == sorted(f"{ASSET_PATH}/{a.name}" for a in ASSETS)
        assert "//" not in "".join(url for url, _ in tags)  # no CDN, no protocol-relative URL
        for url, integrity in tags:
            served = client.get(url)
            assert served.status_code == 200, url
            assert graphiql.sri(served.content) == integrity, url


def test_graphiql_is_off_in_production(production_hub: str) -> None:
    with httpx.Client(base_url=production_hub, timeout=10) as client:
        page = client.get("/graphql", headers={"accept": "text/html"})
        assert not page.headers.get("content-type", "").startswith("text/html")
        assert "graphiql" not in page.text.lower()
        for asset in ASSETS:
            assert client.get(f"{ASSET_PATH}/{asset.name}").status_code == 404
