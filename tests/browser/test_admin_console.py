"""The console in a real Chromium: an operator signs in by typing, registers a department and a
client by uploading its JWK file, blocks the client, and the hub refuses that client's next token
request. Screenshots go to ``tests/artifacts/admin-*.png``.

The hub runs over HTTP on 127.0.0.1 (a potentially trustworthy origin, where Chromium keeps
``Secure`` and ``__Host-`` cookies). Async set-up runs in a worker thread: once sync Playwright has
run, the main thread has a running event loop (BROWSER-TESTS.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.client import HubAuth, TokenRefused, new_client_key
from hub.grants import Actor, GrantService, load_grant_catalogue
from hub.settings import Settings
from hub.store import connect
from tests.browser.conftest import Account, in_thread, serving_console, shot, sign_in

pytestmark = pytest.mark.browser

PASSWORD = "operator's long password"
SCOPE = "market.enterprise:read"


@pytest.fixture(scope="module")
def console_hub(
    demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Settings]]:
    people: list[Account] = [("olga", "Olga Operator", "operator", PASSWORD, None),
                             ("ada", "Ada Auditor", "auditor", PASSWORD, None)]
    with serving_console(demo_data_dir, tmp_path_factory.mktemp("console-state"), people) as running:
        yield running


def _grant(settings: Settings, client_id: str) -> None:
    async def work() -> None:
        engine = connect(settings.registry_url)
        try:
            service = GrantService(engine, load_grant_catalogue(settings.policies_dir))
            await service.grant_now(Actor("olga", "operator"), client_id, {SCOPE}, ("licensing",), "test", 30)
        finally:
            await engine.dispose()

    in_thread(work)


def _token(base: str, client_id: str, key: dict[str, Any]) -> str:
    auth = HubAuth(f"{base}/oauth/token", client_id, key, f"{base}/graphql", SCOPE)
    with httpx.Client(base_url=base, timeout=10) as http:
        flow = auth._fetch_token()
        request = next(flow)
        try:
            flow.send(http.send(request))
        except StopIteration:
            pass
    assert auth._token is not None
    return auth._token


def test_an_operator_registers_a_department_and_a_client_then_blocks_it_and_its_tokens_stop(
    page: Any, console_hub: tuple[str, Settings], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    base, settings = console_hub
    sign_in(page, base, "olga", PASSWORD, "/admin/departments")
    expect(page).to_have_url(f"{base}/admin/departments")
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["__Host-hub-admin"]
    assert session["secure"] and session["httpOnly"] and session["sameSite"] == "Strict"

    page.get_by_label("Name").press_sequentially("transport")
    page.get_by_label("Title").press_sequentially("Transport Bureau")
    page.get_by_label("Jurisdiction prefix").press_sequentially("1302")
    page.get_by_role("button", name="Register department").click()
    row = page.locator("#department-transport")
    expect(row).to_contain_text("Transport Bureau")
    expect(row).to_contain_text("1302")
    shot(page, "departments")

    key = new_client_key()
    jwk_file = tmp_path / "case-system.pub.json"
    jwk_file.write_text(json.dumps({k: v for k, v in key.items() if k != "d"}))
    page.get_by_role("link", name="Clients").first.click()
    page.get_by_label("Department").last.select_option("transport")
    page.get_by_label("Name").press_sequentially("case handling system")
    page.get_by_label("Public key (JWK file, EC P-256)").set_input_files(str(jwk_file))
    page.get_by_role("button", name="Register client").click()
    expect(page.locator("h1")).to_contain_text("transport-")
    expect(page.locator("#client-status")).to_have_text("active")
    client_id = page.locator("h1 code").inner_text()
    shot(page, "client")

    _grant(settings, client_id)
    assert _token(base, client_id, key)  # the system gets a token while the client is active

    page.get_by_role("button", name="Block client").click()
    expect(page.locator("#client-status")).to_have_text("blocked")
    shot(page, "client-blocked")
    with pytest.raises(TokenRefused, match="invalid_client"):
        _token(base, client_id, key)

    page.get_by_role("link", name="Admin log").click()
    expect(page.locator("table")).to_contain_text("client.block")
    expect(page.locator("table")).to_contain_text("department.register")
    shot(page, "admin-log")


def test_an_auditor_sees_the_registry_without_any_form_to_change_it(
    page: Any, console_hub: tuple[str, Settings]
) -> None:
    from playwright.sync_api import expect

    base, _ = console_hub
    sign_in(page, base, "ada", PASSWORD, "/admin/departments")
    expect(page.locator("h1")).to_have_text("Departments")
    expect(page.get_by_role("button", name="Register department")).to_have_count(0)
    expect(page.get_by_role("button", name="Block market")).to_have_count(0)
    shot(page, "auditor")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{base}/admin/signin")
    page.goto(f"{base}/admin/admin-log")
    assert "/admin/signin" in page.url


def test_a_wrong_password_in_the_browser_shows_the_refusal(page: Any, console_hub: tuple[str, Settings]) -> None:
    from playwright.sync_api import expect

    base, _ = console_hub
    page.goto(f"{base}/admin/")
    page.get_by_label("Username").press_sequentially("ada")
    page.get_by_label("Password").press_sequentially("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong username, password or code")
    shot(page, "signin-refused")


def _register_client(page: Any, base: str, department: str, key: dict[str, Any], tmp_path: Path) -> str:
    from playwright.sync_api import expect

    page.goto(f"{base}/admin/departments")
    page.get_by_label("Name").press_sequentially(department)
    page.get_by_label("Title").press_sequentially(f"{department.title()} Bureau")
    page.get_by_role("button", name="Register department").click()
    expect(page.locator(f"#department-{department}")).to_be_visible()
    jwk_file = tmp_path / f"{department}.pub.json"
    jwk_file.write_text(json.dumps({k: v for k, v in key.items() if k != "d"}))
    page.get_by_role("link", name="Clients").first.click()
    page.get_by_label("Department").last.select_option(department)
    page.get_by_label("Name").press_sequentially(f"{department} system")
    page.get_by_label("Public key (JWK file, EC P-256)").set_input_files(str(jwk_file))
    page.get_by_role("button", name="Register client").click()
    expect(page.locator("#client-status")).to_have_text("active")
    return str(page.locator("h1 code").inner_text())


def test_an_operator_rotates_a_clients_key_and_blocks_and_unblocks_the_client_and_its_department(
    page: Any, console_hub: tuple[str, Settings], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    base, settings = console_hub
    sign_in(page, base, "olga", PASSWORD, "/admin/departments")
    old, new = new_client_key(), new_client_key()
    client_id = _register_client(page, base, "water", old, tmp_path)
    _grant(settings, client_id)
    assert _token(base, client_id, old)

    new_file = tmp_path / "water-new.pub.json"
    new_file.write_text(json.dumps({k: v for k, v in new.items() if k != "d"}))
    page.get_by_label("Public key (JWK file)", exact=True).set_input_files(str(new_file))
    page.get_by_role("button", name="Add key").click()
    keys = page.locator("table.keys tbody tr")
    expect(keys).to_have_count(2)
    assert _token(base, client_id, new)  # the system switches to its new key ...
    keys.filter(has_text=old["kid"]).get_by_role("button", name="Remove key").click()
    expect(keys).to_have_count(1)
    expect(keys.first).to_contain_text(new["kid"])
    shot(page, "client-rotated")
    with pytest.raises(TokenRefused, match="invalid_client"):
        _token(base, client_id, old)  # ... and the old key signs in no more
    assert _token(base, client_id, new)

    page.get_by_role("button", name="Block client").click()
    expect(page.locator("#client-status")).to_have_text("blocked")
    with pytest.raises(TokenRefused, match="invalid_client"):
        _token(base, client_id, new)
    page.get_by_role("button", name="Unblock client").click()
    expect(page.locator("#client-status")).to_have_text("active")
    assert _token(base, client_id, new)

    page.get_by_role("link", name="Departments").click()
    page.get_by_role("button", name="Block water").click()
    expect(page.get_by_role("button", name="Unblock water")).to_be_visible()
    shot(page, "department-blocked")
    with pytest.raises(TokenRefused, match="invalid_client"):
        _token(base, client_id, new)
    page.get_by_role("button", name="Unblock water").click()
    expect(page.get_by_role("button", name="Block water")).to_be_visible()
    assert _token(base, client_id, new)

    page.get_by_role("link", name="Admin log").click()
    log = page.locator("table")
    for action in ("client.key_add", "client.key_remove", "client.unblock", "department.block",
                   "department.unblock"):
        expect(log).to_contain_text(action)
