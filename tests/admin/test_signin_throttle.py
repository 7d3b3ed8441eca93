"""Failed sign-ins counted per address: one address guessing one password across many accounts
(none of which locks) is stopped at the limit, without any password or code being checked, while
other addresses sign in as usual; failures leave the count after 15 minutes; every replica sharing
the registry counts the same failures (SQLite and PostgreSQL)."""

from __future__ import annotations

import re

import httpx
import pyotp
import pytest
from sqlalchemy import text

from hub.admin.throttle import WINDOW, AddressThrottle
from hub.settings import SettingsError, load_settings
from tests.admin.conftest import ORIGIN, PASSWORD, Console, Person

SPRAYER = "203.0.113.7"
LIMIT = 20  # the default, HUB_ADMIN_ADDRESS_FAILURES


def person_at(console: Console, address: str) -> Person:
    transport = httpx.ASGITransport(app=console.app, client=(address, 40000))
    return Person(httpx.AsyncClient(transport=transport, base_url=ORIGIN, headers={"origin": ORIGIN, "accept-language": "en"}))


async def throttle(console: Console) -> AddressThrottle:
    """The failures as the hub counts them: in its registry database."""
    return AddressThrottle(console.registry.engine, LIMIT)


async def test_an_address_spraying_one_password_over_many_accounts_is_stopped_at_the_limit(
    console: Console,
) -> None:
    limiter = await throttle(console)
    for _ in range(LIMIT - 2):  # earlier guesses from the same address, as the registry holds them
        await limiter.failed(SPRAYER)
    sprayer = person_at(console, SPRAYER)
    for username in ("mei", "eli"):  # one guess each: no account comes near its own lock
        assert (await sprayer.sign_in(username, "Summer2026!guess")).status_code == 401
    assert await limiter.failures(SPRAYER) == LIMIT

    refused = await sprayer.sign_in("ada", PASSWORD)  # even the right password gets no answer
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= WINDOW
    assert "Too many failed sign-ins from your address; try again in" in refused.text
    assert "__Host-hub-admin" not in refused.headers.get("set-cookie", "")
    assert (await sprayer.sign_in("ada", "Summer2026!guess")).status_code == 429
    async with console.registry.engine.connect() as conn:  # no password was checked: no failure counted
        counted = (await conn.execute(text("select failed_attempts from accounts where username = 'ada'"))).scalar()
    assert counted == 0

    colleague = person_at(console, "198.51.100.20")
    assert (await colleague.sign_in("ada", PASSWORD)).status_code == 303
    assert (await person_at(console, SPRAYER).sign_in("olga", PASSWORD)).status_code == 429


async def test_wrong_second_factor_codes_count_against_the_address_too(console: Console) -> None:
    secret = pyotp.random_base32(32)
    await console.accounts.set_totp("mei", secret)
    limiter = await throttle(console)
    for _ in range(LIMIT - 1):
        await limiter.failed(SPRAYER)
    mei = person_at(console, SPRAYER)
    assert (await mei.sign_in("mei", PASSWORD)).status_code == 303  # the password step: right
    page = await mei.http.get("/admin/signin/totp")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    code = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    wrong = await mei.http.post("/admin/signin/totp", data={"csrf": csrf.group(1), "code": code})
    assert wrong.status_code == 401
    right = await mei.http.post("/admin/signin/totp", data={"csrf": csrf.group(1), "code": pyotp.TOTP(secret).now()})
    assert right.status_code == 429 and "Too many failed sign-ins" in right.text


async def test_failures_leave_the_count_after_the_window_and_a_success_clears_nothing(console: Console) -> None:
    limiter = await throttle(console)
    start = 1_800_000_000
    for n in range(LIMIT):
        await limiter.failed(SPRAYER, now=start + n)
    assert await limiter.wait(SPRAYER, now=start + LIMIT) == WINDOW - LIMIT  # until the oldest leaves
    assert await limiter.wait(SPRAYER, now=start + WINDOW - 1) == 1
    assert await limiter.wait(SPRAYER, now=start + WINDOW) == 0
    assert await limiter.wait("198.51.100.20", now=start + LIMIT) == 0
    await limiter.failed(SPRAYER, now=start + 2 * WINDOW)  # prunes what has left the window
    assert await limiter.failures(SPRAYER, now=start + 2 * WINDOW) == 1


async def test_two_hub_processes_sharing_a_registry_count_the_same_failures(console: Console) -> None:
    engine = console.registry.engine
    first, second = AddressThrottle(engine, LIMIT), AddressThrottle(engine, LIMIT)
    for n in range(LIMIT):
        await (first if n % 2 else second).failed(SPRAYER)
    assert await first.wait(SPRAYER) > 0 and await second.wait(SPRAYER) > 0


@pytest.mark.parametrize("value", ["4", "10001", "many"])
def test_an_address_limit_out_of_range_stops_the_hub_naming_the_setting(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_ADMIN_ADDRESS_FAILURES", value)
    with pytest.raises(SettingsError, match="HUB_ADMIN_ADDRESS_FAILURES|admin_address_failures"):
        load_settings()
