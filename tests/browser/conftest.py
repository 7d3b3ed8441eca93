"""What every browser test shares: Debian's Chromium driven by Playwright (never a downloaded
browser), every host but 127.0.0.1 unresolvable, a page per test, and helpers for the async set-up
that must run off the main thread once sync Playwright has started its event loop there
(BROWSER-TESTS.md). Screenshots go to ``tests/artifacts/``."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from hub.accounts.store import Accounts
from hub.app import create_app
from hub.demo.services import serve_in_thread
from hub.settings import Settings, load_settings
from hub.store import Registry, connect, migrate

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--disable-gpu", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
T = TypeVar("T")


def in_thread(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(work())).result()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = (
            f"Chromium is not installed at {CHROMIUM} (apt-get install chromium; `make test` does as root)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must provide it")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


# (username, display name, role, password, department or None)
Account = tuple[str, str, str, str, "str | None"]


@contextmanager
def serving_console(
    demo_data_dir: Path, state_dir: Path, accounts: list[Account], **settings: Any
) -> Iterator[tuple[str, Settings]]:
    """A development hub on a free port, its registry holding Market Regulation and ``accounts``."""
    port = free_port()
    loaded = load_settings(
        environment="development", port=port, demo_data_dir=demo_data_dir, state_dir=state_dir, **settings
    )

    async def seed() -> None:
        engine = connect(loaded.registry_url)
        try:
            await migrate(engine)
            await Registry(engine).add_department("market", "Market Regulation")
            for username, name, role, password, department in accounts:
                await Accounts(engine).create(username, name, role, password, department)
        finally:
            await engine.dispose()

    in_thread(seed)
    with serve_in_thread(create_app(loaded), port=port) as running:
        yield running.url, loaded


def sign_in(page: Any, base: str, username: str, password: str, path: str = "/admin/", language: str = "en") -> None:
    """Open ``path`` signed out, land on the sign-in page, type the username and password; once
    signed in (no second factor due), switch the account to ``language`` with the bar's switch
    (accounts read the console in Chinese until they choose)."""
    page.goto(f"{base}{path}")
    assert "/admin/signin" in page.url
    if language == "zh":
        page.locator("form.languages button[value=zh]").click()
        page.get_by_label("用户名").press_sequentially(username)
        page.get_by_label("密码").press_sequentially(password)
        page.get_by_role("button", name="登录", exact=True).click()
        return
    page.locator("form.languages button[value=en]").click()
    page.get_by_label("Username").press_sequentially(username)
    page.get_by_label("Password").press_sequentially(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    if "/admin/signin" not in page.url:
        page.locator("form.languages button[value=en]").click()
        page.wait_for_load_state()


def shot(page: Any, name: str) -> None:
    """The whole page as ``tests/artifacts/admin-<name>.png``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"admin-{name}.png"), full_page=True)
