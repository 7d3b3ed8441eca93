"""Console sign-in through OpenID Connect in a real Chromium against a real provider (node oidc-provider):
a steward whose identity the operator linked clicks "Sign in with City ID", types a login at the
provider, consents and lands in the console as herself; a stranger is told whom to ask. Screenshots go
to ``tests/artifacts/admin-oidc-*.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.accounts.store import Accounts
from hub.accounts.oidc_links import OidcLinks
from hub.app import create_app
from hub.demo.services import serve_in_thread
from hub.settings import Settings, load_settings
from hub.store import Registry, connect, migrate
from tests.admin.oidc_peer import CLIENT_ID, CLIENT_SECRET, free_port, running_provider
from tests.browser.conftest import in_thread, shot
from tests.browser.test_admin_console import PASSWORD

pytestmark = pytest.mark.browser


async def _seed(settings: Settings) -> None:
    engine = connect(settings.registry_url)
    try:
        await migrate(engine)
        await Registry(engine).add_department("market", "Market Regulation")
        await Accounts(engine).create("mei", "Mei Market-Steward", "steward", PASSWORD, "market")
        await OidcLinks(engine).link(str(settings.oidc_issuer), "mei.city", "mei")
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def oidc_hub(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    workdir = tmp_path_factory.mktemp("oidc-provider")
    with running_provider(f"{base}/admin/oidc/callback", workdir) as provider:
        settings = load_settings(
            environment="development", port=port, demo_data_dir=demo_data_dir,
            state_dir=tmp_path_factory.mktemp("oidc-state"), oidc_enabled=True, oidc_issuer=provider.issuer,
            oidc_client_id=CLIENT_ID, oidc_client_secret=CLIENT_SECRET, oidc_name="City ID",
        )
        in_thread(lambda: _seed(settings))
        with serve_in_thread(create_app(settings), port=port) as running:
            yield running.url


def _at_provider(page: Any, login: str) -> None:
    page.locator("input[name=login]").press_sequentially(login)
    page.locator("input[name=password]").press_sequentially("any password")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()


def test_a_linked_steward_signs_in_through_the_provider(oidc_hub: str, page: Any) -> None:
    page.goto(f"{oidc_hub}/admin/grants")
    assert "/admin/signin" in page.url
    shot(page, "oidc-signin")
    page.get_by_role("link", name="Sign in with City ID").click()
    _at_provider(page, "mei.city")
    assert page.get_by_role("heading", name="Signed in").is_visible()
    shot(page, "oidc-signed-in")
    page.get_by_role("link", name="Continue to the console").click()
    page.wait_for_url(f"{oidc_hub}/admin/grants")
    assert page.get_by_text("Mei Market-Steward").is_visible()
    shot(page, "oidc-console")


def test_an_unlinked_identity_is_told_to_ask_the_operator(oidc_hub: str, page: Any) -> None:
    page.goto(f"{oidc_hub}/admin/signin")
    page.get_by_role("link", name="Sign in with City ID").click()
    _at_provider(page, "stranger")
    assert page.get_by_text("no console account is linked").is_visible()
    shot(page, "oidc-unlinked")
    page.goto(f"{oidc_hub}/admin/grants")
    assert "/admin/signin" in page.url
