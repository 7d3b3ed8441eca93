"""Signing in and out: the session cookie's attributes, rotation, wrong passwords and the lockout."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.admin.conftest import ORIGIN, PASSWORD, Console, csrf_field, sqlite_url


@pytest.fixture
def console_url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path)


async def test_a_person_signs_in_and_sees_their_role(console: Console) -> None:
    person = await console.signed_in("olga")
    home = await person.http.get("/admin/")
    assert home.status_code == 200
    assert "Olga Operator" in home.text and "operator" in home.text


async def test_the_session_cookie_is_host_prefixed_secure_httponly_and_samesite_strict(console: Console) -> None:
    person = console.person()
    response = await person.sign_in("olga", PASSWORD)
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and "__Host-hub-admin=" in v)
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite=strict", "path=/"} <= attributes
    assert not any(a.startswith("domain") for a in attributes)


async def test_sign_in_opens_a_new_session_and_the_token_held_before_is_worthless(console: Console) -> None:
    person = await console.signed_in("olga")
    before = person.http.cookies["__Host-hub-admin"]
    # Signed in, the sign-in page sends the person on; its form (from another tab) still signs in anew.
    assert (await person.http.get("/admin/signin")).status_code == 303
    form_tab = console.person()
    token = csrf_field((await form_tab.http.get("/admin/signin")).text)
    person.http.cookies.set("__Host-hub-signin", form_tab.http.cookies["__Host-hub-signin"], domain="hub.test")
    response = await person.http.post(
        "/admin/signin", data={"csrf": token, "username": "olga", "password": PASSWORD}
    )
    assert response.status_code == 303
    after = person.http.cookies["__Host-hub-admin"]
    assert after != before
    thief = console.person()
    thief.http.cookies.set("__Host-hub-admin", before, domain="hub.test")
    assert (await thief.http.get("/admin/")).status_code == 303


async def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(console: Console) -> None:
    person = console.person()
    wrong_password = await person.sign_in("olga", "not the password at all")
    unknown_user = await person.sign_in("nobody", PASSWORD)
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert "Wrong username, password or code" in wrong_password.text
    assert "__Host-hub-admin" not in person.http.cookies


async def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(console: Console) -> None:
    person = console.person()
    for _ in range(5):
        assert (await person.sign_in("mei", "wrong wrong wrong")).status_code == 401
    assert (await person.sign_in("mei", PASSWORD)).status_code == 401
    assert (await person.sign_in("olga", PASSWORD)).status_code == 303  # others are not affected


async def test_a_disabled_account_cannot_sign_in_and_its_open_session_ends(console: Console) -> None:
    person = await console.signed_in("mei")
    await console.accounts.set_disabled("mei", True)
    assert (await person.http.get("/admin/")).status_code == 303
    assert (await console.person().sign_in("mei", PASSWORD)).status_code == 401


async def test_sign_out_ends_the_session_on_the_server(console: Console) -> None:
    person = await console.signed_in("olga")
    token = person.http.cookies["__Host-hub-admin"]
    response = await person.form("/admin/signout", {})
    assert response.status_code == 303 and response.headers["location"] == "/admin/signin"
    replay = console.person()
    replay.http.cookies.set("__Host-hub-admin", token, domain="hub.test")
    assert (await replay.http.get("/admin/")).status_code == 303


async def test_the_sign_in_form_needs_its_own_csrf_token_and_the_consoles_origin(console: Console) -> None:
    person = console.person()
    page = await person.http.get("/admin/signin")
    token = csrf_field(page.text)
    form = {"username": "olga", "password": PASSWORD}
    assert (await person.http.post("/admin/signin", data={**form, "csrf": "forged"})).status_code == 403
    elsewhere = await person.http.post(
        "/admin/signin", data={**form, "csrf": token}, headers={"origin": "https://evil.test"}
    )
    assert elsewhere.status_code == 403
    assert (await person.http.post("/admin/signin", data={**form, "csrf": token})).status_code == 303


async def test_after_sign_in_the_person_goes_back_to_the_page_they_asked_for_but_never_off_site(
    console: Console,
) -> None:
    person = console.person()
    first = await person.http.get("/admin/clients?department=market")
    assert first.status_code == 303
    assert first.headers["location"] == "/admin/signin?next=%2Fadmin%2Fclients%3Fdepartment%3Dmarket"
    page = await person.http.get(first.headers["location"])
    assert 'value="/admin/clients?department=market"' in page.text
    for target in ("https://evil.test/", "//evil.test/admin", "/admin/../..//evil.test"):
        person = console.person()
        page = await person.http.get("/admin/signin", params={"next": target})
        response = await person.http.post("/admin/signin", data={
            "csrf": csrf_field(page.text), "username": "olga", "password": PASSWORD, "next": target,
        })
        assert response.headers["location"] == "/admin/"


async def test_every_console_page_carries_the_security_headers(console: Console) -> None:
    for response in (await console.person().http.get("/admin/signin"),
                     await (await console.signed_in("olga")).http.get("/admin/departments")):
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-frame-options"] == "DENY"
    assert ORIGIN
