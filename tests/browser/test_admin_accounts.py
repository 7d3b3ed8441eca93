"""Console accounts in a real Chromium: an operator creates a steward account through the form; the
steward signs in, turns on a TOTP second factor, signs in with it, changes the password (which ends
the steward's other sessions), and is signed out everywhere once the operator disables the account.
Screenshots go to ``tests/artifacts/admin-*.png``.

The tests run in file order and share one steward (a module fixture), as one person's story. The
steward's codes come from pyotp, one time step each: the hub accepts the previous, the current and
the next step but never a step it has already seen, so a later sign-in may have to wait for the clock.
Async set-up runs in a worker thread: once sync Playwright has run, the main thread has a running
event loop (BROWSER-TESTS.md).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest

from tests.browser.conftest import Account, serving_console, shot, sign_in

pytestmark = pytest.mark.browser

OPERATOR_PASSWORD = "operator's long password"
FIRST_PASSWORD = "steward's first password"
NEW_PASSWORD = "steward's second password"
STEWARD = "mira"
TOTP_STEP = 30


@pytest.fixture(scope="module")
def accounts_hub(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    operator: Account = ("olga", "Olga Operator", "operator", OPERATOR_PASSWORD, None)
    with serving_console(demo_data_dir, tmp_path_factory.mktemp("accounts-state"), [operator]) as (url, _):
        yield url


@dataclass
class Steward:
    """The steward's browsers (at the desk, and a laptop left signed in) and what the steward knows."""

    desk: Any
    laptop: Any
    password: str = FIRST_PASSWORD
    secret: str = ""
    spent_step: int = 0  # the last time step whose code the hub has seen


def _new_page(browser: Any) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(15_000)
    return context.new_page()


@pytest.fixture(scope="module")
def steward(browser: Any) -> Iterator[Steward]:
    desk, laptop = _new_page(browser), _new_page(browser)
    try:
        yield Steward(desk, laptop)
    finally:
        desk.context.close()
        laptop.context.close()


def next_code(who: Steward) -> str:
    """The code of the time step after the last one spent, once the hub's clock admits it (the hub
    takes one step either side of its own); the step is then spent."""
    step = max(who.spent_step + 1, int(time.time() // TOTP_STEP))
    while int(time.time() // TOTP_STEP) < step - 1:
        time.sleep(0.2)
    who.spent_step = step
    return str(pyotp.TOTP(who.secret).at(step * TOTP_STEP))


def test_an_operator_creates_a_steward_account_and_the_steward_signs_in(
    page: Any, accounts_hub: str, steward: Steward
) -> None:
    from playwright.sync_api import expect

    base = accounts_hub
    sign_in(page, base, "olga", OPERATOR_PASSWORD, "/admin/account")
    page.get_by_role("link", name="Accounts").click()
    expect(page).to_have_url(f"{base}/admin/accounts")
    page.get_by_label("Username", exact=True).press_sequentially(STEWARD)
    page.get_by_label("Name", exact=True).press_sequentially("Mira Steward")
    page.get_by_label("Role").select_option("steward")
    page.get_by_label("Department").select_option("market")
    page.get_by_label("First password").press_sequentially(FIRST_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("status")).to_contain_text(f"account {STEWARD} created")
    row = page.locator(f"#account-{STEWARD}")
    expect(row.locator("td")).to_have_text([STEWARD, "Mira Steward", "steward", "market", "", "off", "active",
                                            f"Disable {STEWARD}"])
    expect(row.get_by_role("button", name=f"Disable {STEWARD}")).to_be_visible()
    shot(page, "accounts")

    for browser_page in (steward.desk, steward.laptop):  # a fresh context each, not the operator's
        sign_in(browser_page, base, STEWARD, FIRST_PASSWORD, "/admin/account")
        expect(browser_page).to_have_url(f"{base}/admin/account")
        expect(browser_page.locator("h1")).to_have_text("Your account")
        expect(browser_page.locator("dl.facts")).to_contain_text("market")


def test_the_steward_turns_on_totp_and_the_next_sign_in_asks_for_a_code(
    accounts_hub: str, steward: Steward
) -> None:
    from playwright.sync_api import expect

    base, page = accounts_hub, steward.desk
    page.goto(f"{base}/admin/account")
    expect(page.locator("dl.facts")).to_contain_text("off")
    page.get_by_role("link", name="Turn on a TOTP second factor").click()
    expect(page).to_have_url(f"{base}/admin/account/totp")
    steward.secret = page.locator("#totp-secret").inner_text().strip()
    assert len(steward.secret) == 32
    # The code the app showed a moment ago (the hub takes one step either side): the later steps stay
    # free for the sign-ins below, so none of them waits for the clock.
    steward.spent_step = int(time.time() // TOTP_STEP) - 1
    code = pyotp.TOTP(steward.secret).at(steward.spent_step * TOTP_STEP)
    page.get_by_label("Code").press_sequentially(code)
    shot(page, "totp-enrol")
    page.get_by_role("button", name="Turn on").click()
    expect(page).to_have_url(f"{base}/admin/account?done=totp")
    expect(page.get_by_role("status")).to_contain_text("TOTP is on")
    expect(page.locator("dl.facts")).to_contain_text("TOTP is on")
    expect(page.get_by_role("link", name="Replace your TOTP secret")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{base}/admin/signin")
    sign_in(page, base, STEWARD, steward.password, "/admin/account")
    expect(page).to_have_url(f"{base}/admin/signin/totp")
    expect(page.locator("h1")).to_have_text("Enter your code")
    shot(page, "totp-signin")
    page.get_by_label("Code").press_sequentially(next_code(steward))  # the enrolment's step is spent
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(f"{base}/admin/")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.goto(f"{base}/admin/account")
    expect(page.locator("h1")).to_have_text("Your account")


def test_the_steward_changes_the_password_and_the_other_session_and_the_old_password_end(
    browser: Any, accounts_hub: str, steward: Steward
) -> None:
    from playwright.sync_api import expect

    base, page = accounts_hub, steward.desk
    page.goto(f"{base}/admin/account")
    page.get_by_role("link", name="Change your password").click()
    expect(page).to_have_url(f"{base}/admin/account/password")
    page.get_by_label("Current password").press_sequentially(FIRST_PASSWORD)
    page.get_by_label("New password", exact=True).press_sequentially(NEW_PASSWORD)
    page.get_by_label("New password again").press_sequentially(NEW_PASSWORD + " typo")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert")).to_have_text("The two new passwords differ.")
    shot(page, "password-refused")

    page.get_by_label("Current password").press_sequentially(FIRST_PASSWORD)
    page.get_by_label("New password", exact=True).press_sequentially(NEW_PASSWORD)
    page.get_by_label("New password again").press_sequentially(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page).to_have_url(f"{base}/admin/account?done=password")
    expect(page.get_by_role("status")).to_contain_text(
        "your password is changed and your other sessions have ended"
    )
    shot(page, "password-changed")
    steward.password = NEW_PASSWORD

    steward.laptop.goto(f"{base}/admin/account")  # signed in before the change
    assert "/admin/signin" in steward.laptop.url
    page.goto(f"{base}/admin/account")  # this browser got a new session with the change
    expect(page.locator("h1")).to_have_text("Your account")

    fresh = _new_page(browser)
    try:
        sign_in(fresh, base, STEWARD, FIRST_PASSWORD, "/admin/account")
        expect(fresh.get_by_role("alert")).to_contain_text("Wrong username, password or code")
        expect(fresh).to_have_url(f"{base}/admin/signin")
        fresh.goto(f"{base}/admin/signin")
        fresh.get_by_label("Username").press_sequentially(STEWARD)
        fresh.get_by_label("Password").press_sequentially(NEW_PASSWORD)
        fresh.get_by_role("button", name="Sign in").click()
        expect(fresh).to_have_url(f"{base}/admin/signin/totp")
        fresh.get_by_label("Code").press_sequentially(next_code(steward))
        fresh.get_by_role("button", name="Continue").click()
        expect(fresh).to_have_url(f"{base}/admin/")
        expect(fresh.get_by_role("button", name="Sign out")).to_be_visible()
    finally:
        fresh.context.close()


def test_the_operator_disables_the_steward_and_the_stewards_session_ends(
    page: Any, accounts_hub: str, steward: Steward
) -> None:
    from playwright.sync_api import expect

    base = accounts_hub
    steward.desk.goto(f"{base}/admin/account")
    expect(steward.desk.locator("h1")).to_have_text("Your account")  # signed in until now

    sign_in(page, base, "olga", OPERATOR_PASSWORD, "/admin/account")
    page.goto(f"{base}/admin/accounts")
    row = page.locator(f"#account-{STEWARD}")
    expect(row.locator("td").nth(5)).to_have_text("on")  # the TOTP column
    row.get_by_role("button", name=f"Disable {STEWARD}").click()
    expect(page.get_by_role("status")).to_contain_text(f"{STEWARD} disabled")
    expect(row.locator("td.status-disabled")).to_have_text("disabled")
    expect(row.get_by_role("button", name=f"Enable {STEWARD}")).to_be_visible()
    shot(page, "accounts-disabled")

    steward.desk.goto(f"{base}/admin/account")
    assert "/admin/signin" in steward.desk.url
    expect(steward.desk.locator("h1")).to_have_text("Sign in")
