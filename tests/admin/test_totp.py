"""The TOTP second factor (RFC 6238): enrolment from the account page, then a code at every sign-in,
right once, never twice, and not skipped by going straight to a page."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pyotp
import pytest

from hub.accounts.credentials import TOTP_STEP
from tests.admin.conftest import PASSWORD, Console, Person, sqlite_url


@pytest.fixture
def console_url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path)


def code_at(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + offset_steps * TOTP_STEP)


async def enrol(console: Console, username: str) -> str:
    return (await enrol_with_code(console, username))[0]


async def enrol_with_code(console: Console, username: str) -> tuple[str, str]:
    """The secret enrolled and the code that confirmed it."""
    person = await console.signed_in(username)
    page = await person.http.get("/admin/account/totp")
    secret = re.search(r'id="totp-secret">([A-Z2-7]{32})<', page.text)
    assert secret and "otpauth://totp/" in page.text
    code = code_at(secret.group(1))
    done = await person.form("/admin/account/totp", {"secret": secret.group(1), "code": code})
    assert done.status_code == 303
    return secret.group(1), code


async def second_step(person: Person, code: str) -> int:
    page = await person.http.get("/admin/signin/totp")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    response = await person.http.post("/admin/signin/totp", data={"csrf": token.group(1), "code": code})
    return response.status_code


async def test_a_person_with_totp_needs_the_right_code_after_the_password(console: Console) -> None:
    secret = await enrol(console, "mei")
    person = console.person()
    response = await person.sign_in("mei", PASSWORD)
    assert response.headers["location"] == "/admin/signin/totp"
    assert (await person.http.get("/admin/")).status_code == 303  # the password alone opens nothing
    assert (await person.http.get("/admin/api/me")).status_code == 401
    assert await second_step(person, code_at(secret, +1)) == 303
    assert (await person.http.get("/admin/")).status_code == 200


async def test_a_wrong_code_is_refused_and_a_used_code_cannot_be_replayed(console: Console) -> None:
    secret = await enrol(console, "mei")
    person = console.person()
    await person.sign_in("mei", PASSWORD)
    wrong = "000000" if code_at(secret) != "000000" else "111111"
    assert await second_step(person, wrong) == 401
    assert await second_step(person, "12ab56") == 401
    code = code_at(secret, +1)
    assert await second_step(person, code) == 303
    again = console.person()
    await again.sign_in("mei", PASSWORD)
    assert await second_step(again, code) == 401  # the same code, seen once already


async def test_the_code_shown_at_enrolment_cannot_be_used_to_sign_in(console: Console) -> None:
    _, code = await enrol_with_code(console, "eli")
    person = console.person()
    await person.sign_in("eli", PASSWORD)
    assert await second_step(person, code) == 401


async def test_enrolment_needs_a_code_that_matches_the_secret(console: Console) -> None:
    person = await console.signed_in("ada")  # an auditor changes nothing but their own second factor
    page = await person.http.get("/admin/account/totp")
    secret = re.search(r'id="totp-secret">([A-Z2-7]{32})<', page.text)
    assert secret
    wrong = await person.form("/admin/account/totp", {"secret": secret.group(1), "code": "123456"})
    assert wrong.status_code == 400 and "does not match" in wrong.text
    forged = await person.form("/admin/account/totp", {"secret": "short", "code": "123456"})
    assert forged.status_code == 400
    assert not (await console.accounts.get("ada")).totp_enabled  # type: ignore[union-attr]
    right = await person.form("/admin/account/totp", {"secret": secret.group(1), "code": code_at(secret.group(1))})
    assert right.status_code == 303
    assert (await console.accounts.get("ada")).totp_enabled  # type: ignore[union-attr]


async def test_wrong_codes_count_towards_the_lockout(console: Console) -> None:
    secret = await enrol(console, "mei")
    person = console.person()
    await person.sign_in("mei", PASSWORD)
    for _ in range(5):
        assert await second_step(person, "999999" if code_at(secret) != "999999" else "888888") == 401
    assert await second_step(person, code_at(secret, +1)) == 401
    assert (await console.person().sign_in("mei", PASSWORD)).status_code == 401


async def test_a_secret_already_on_is_replaced_only_with_a_code_from_it(console: Console) -> None:
    old = pyotp.random_base32(32)
    await console.accounts.set_totp("eli", old)
    person = console.person()
    await person.sign_in("eli", PASSWORD)
    used = code_at(old, -1)
    assert await second_step(person, used) == 303
    page = await person.http.get("/admin/account/totp")  # in Chinese: the account has not chosen English
    assert 'name="current"' in page.text and ">替换</button>" in page.text
    new = re.search(r'id="totp-secret">([A-Z2-7]{32})<', page.text)
    assert new
    fresh = code_at(new.group(1))
    without = await person.form("/admin/account/totp", {"secret": new.group(1), "code": fresh})
    replayed = await person.form("/admin/account/totp", {"secret": new.group(1), "code": fresh, "current": used})
    for refused in (without, replayed):
        assert refused.status_code == 400 and "请输入当前所用应用的验证码" in refused.text
    assert (await console.accounts.get("eli")).totp_enabled  # type: ignore[union-attr]
    right = await person.form("/admin/account/totp", {"secret": new.group(1), "code": fresh, "current": code_at(old)})
    assert right.status_code == 303
    later = console.person()
    await later.sign_in("eli", PASSWORD)
    assert await second_step(later, code_at(old, +1)) == 401
    assert await second_step(later, code_at(new.group(1), +1)) == 303


async def test_enrolment_shows_the_secrets_uri_as_a_qr_code_served_inline(console: Console) -> None:
    import html

    import segno

    person = await console.signed_in("mei")
    page = (await person.http.get("/admin/account/totp")).text
    uri = re.search(r'<code class="wrap">(otpauth://totp/[^<]+)</code>', page)
    image = re.search(r'<img id="totp-qr" src="([^"]+)" alt="QR code of the otpauth URI below">', page)
    assert uri and image and image.group(1).startswith("data:image/svg+xml")
    assert html.unescape(image.group(1)) == segno.make(html.unescape(uri.group(1)), error="m").svg_data_uri(
        scale=5, border=4
    )
