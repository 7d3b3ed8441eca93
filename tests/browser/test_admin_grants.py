"""The grant workflow in a real Chromium: Ecology's steward asks Market for a conditional scope for
the permits system; Market's steward sees it with its deadline and refuses it with a reason; the
requester reads the refusal, asks again, and the approval puts the scope in the system's next token.
Screenshots go to ``tests/artifacts/admin-grants-*.png``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.accounts.store import Accounts
from hub.app import create_app
from hub.client import HubAuth, new_client_key
from hub.demo.services import serve_in_thread
from hub.settings import Settings, load_settings
from hub.store import Registry, connect, migrate

# browser and page are fixtures: imported to be found here, not called.
from tests.browser.conftest import free_port, in_thread, shot, sign_in

pytestmark = pytest.mark.browser

PASSWORD = "a steward's long password"
SCOPE = "market.finance:read"
PEOPLE = {
    "mei": ("Mei Market-Steward", "steward", "market"),
    "eli": ("Eli Ecology-Steward", "steward", "ecology"),
    "ada": ("Ada Auditor", "auditor", None),
    "dev": ("Dev Developer", "developer", "market"),
}


async def _seed(settings: Settings, key: dict[str, Any]) -> str:
    engine = connect(settings.registry_url)
    try:
        await migrate(engine)
        registry, accounts = Registry(engine), Accounts(engine)
        await registry.add_department("market", "Market Regulation")
        await registry.add_department("ecology", "Ecology and Environment")
        client = await registry.register_client(
            "ecology", "permits system", {k: v for k, v in key.items() if k != "d"}
        )
        for username, (name, role, department) in PEOPLE.items():
            await accounts.create(username, name, role, PASSWORD, department)
        return client.client_id
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def grants_hub(
    demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str, Any]]:
    port, key = free_port(), new_client_key()
    settings = load_settings(
        environment="development", port=port, demo_data_dir=demo_data_dir,
        state_dir=tmp_path_factory.mktemp("grants-state"),
    )
    client_id = in_thread(lambda: _seed(settings, key))
    with serve_in_thread(create_app(settings), port=port) as running:
        yield running.url, client_id, key


def sign_out(page: Any, base: str) -> None:
    page.get_by_role("button", name="Sign out").click()
    assert page.url == f"{base}/admin/signin"


def ask_for_finance_data(page: Any, client_id: str, purposes: str) -> str:
    from playwright.sync_api import expect

    page.get_by_role("link", name="Request scopes for a client").click()
    page.get_by_label("Client").select_option(client_id)
    page.locator(f'input[name="scope"][value="{SCOPE}"]').check()
    page.get_by_label("Purposes").press_sequentially(purposes)
    page.get_by_label("Legal basis").press_sequentially("Regulation on discharge permits, art. 12")
    page.get_by_label("Duration in days").fill("")
    page.get_by_label("Duration in days").press_sequentially("180")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("status")).to_contain_text("sent to market, to answer by")
    return str(page.get_by_role("status").inner_text().split("request ")[1].split(" ")[0])


def token_scopes(base: str, client_id: str, key: dict[str, Any]) -> list[str]:
    auth = HubAuth(f"{base}/oauth/token", client_id, key, f"{base}/graphql", SCOPE)
    with httpx.Client(base_url=base, timeout=10) as http:
        flow = auth._fetch_token()
        request = next(flow)
        try:
            flow.send(http.send(request))
        except StopIteration:
            pass
    assert auth._token is not None
    payload = auth._token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["scope"]).split()


def test_a_conditional_request_is_refused_with_a_reason_then_asked_again_and_approved_into_the_token(
    page: Any, grants_hub: tuple[str, str, Any]
) -> None:
    from playwright.sync_api import expect

    base, client_id, key = grants_hub
    sign_in(page, base, "eli", PASSWORD, "/admin/grants")
    expect(page.locator("h1")).to_have_text("Grants · ecology")
    page.get_by_role("link", name="Request scopes for a client").click()
    expect(page.locator("#scopes-market")).to_contain_text("conditional")
    shot(page, "grants-request-form")
    page.go_back()
    first = ask_for_finance_data(page, client_id, "permit_checks")
    expect(page.locator(f"#asked-{first}")).to_contain_text("pending")
    shot(page, "grants-requested")
    sign_out(page, base)

    sign_in(page, base, "mei", PASSWORD, "/admin/grants")
    waiting = page.locator(f"#inbox-{first}")
    expect(waiting).to_contain_text(SCOPE)
    expect(waiting.locator(".deadline")).to_contain_text("CST")
    shot(page, "grants-inbox")
    reason = page.get_by_label(f"Reason for refusing {first}")
    reason.press_sequentially("finance data serves tax matters only")
    page.get_by_role("button", name=f"Refuse {first}").click()
    expect(page.get_by_role("status")).to_contain_text(f"request {first} refused")
    sign_out(page, base)

    sign_in(page, base, "eli", PASSWORD, "/admin/grants")
    refused = page.locator(f"#asked-{first}")
    expect(refused).to_contain_text("refused")
    expect(refused).to_contain_text("finance data serves tax matters only")
    shot(page, "grants-refused")
    second = ask_for_finance_data(page, client_id, "discharge_permit_review")
    sign_out(page, base)

    sign_in(page, base, "mei", PASSWORD, "/admin/grants")
    page.get_by_role("button", name=f"Approve {second}").click()
    expect(page.get_by_role("status")).to_contain_text(f"request {second} approved")
    expect(page.locator("#owned")).to_contain_text(client_id)
    shot(page, "grants-approved")
    page.locator("#owned summary").click()
    shot(page, "grants-change")
    page.get_by_role("button", name="Recertify for 180 days").click()
    expect(page.get_by_role("status")).to_contain_text("recertified until")
    assert SCOPE in token_scopes(base, client_id, key)


def test_an_auditor_reads_the_grants_without_forms_and_a_developer_has_no_grants_page(
    page: Any, grants_hub: tuple[str, str, Any]
) -> None:
    from playwright.sync_api import expect

    base, _, _ = grants_hub
    sign_in(page, base, "ada", PASSWORD, "/admin/grants")
    expect(page.locator("h1")).to_have_text("Grants")
    expect(page.get_by_role("link", name="Request scopes for a client")).to_have_count(0)
    expect(page.locator("main form[method=post]")).to_have_count(0)
    shot(page, "grants-auditor")
    sign_out(page, base)
    sign_in(page, base, "dev", PASSWORD, "/admin/grants")
    expect(page.get_by_role("alert")).to_contain_text("a developer cannot open this page")
    page.goto(f"{base}/admin/")
    expect(page.locator(".bar nav")).to_contain_text("Catalogue")
    expect(page.locator(".bar nav")).not_to_contain_text("Grants")
