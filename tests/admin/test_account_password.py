"""A signed-in person changes their own password: only with the current one, to a usable new one
typed twice; afterwards the old password and every other session are worthless, this browser stays
signed in, and the admin log says who changed it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.admin.conftest import PASSWORD, Console, Person, sqlite_url

NEW = "a much longer passphrase 2026"


@pytest.fixture
def console_url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path)


async def change(person: Person, current: str, new: str, again: str | None = None) -> tuple[int, str]:
    """The answer's status, and its page (the one it leads to, after a change)."""
    response = await person.form("/admin/account/password", {
        "current": current, "new": new, "again": new if again is None else again,
    })
    if response.status_code == 303:
        assert response.headers["location"] == "/admin/account?done=password"
        return 303, (await person.http.get(response.headers["location"])).text
    return response.status_code, response.text


async def test_a_person_changes_their_password_and_every_other_session_ends(console: Console) -> None:
    mei, elsewhere = await console.signed_in("mei"), await console.signed_in("mei")
    assert (await mei.http.get("/admin/account")).text.count('href="/admin/account/password"') == 1
    status, page = await change(mei, PASSWORD, NEW)
    assert status == 303 and "Done: your password is changed and your other sessions have ended" in page
    assert (await elsewhere.http.get("/admin/account")).status_code == 303  # to the sign-in page
    assert (await console.person().sign_in("mei", PASSWORD)).status_code == 401
    assert (await console.person().sign_in("mei", NEW)).status_code == 303
    olga = await console.signed_in("olga")
    log = (await olga.api("GET", "/admin-log", params={"target": "mei"})).json()["actions"]
    assert [(a["action"], a["actor"]) for a in log] == [("account.password_changed", "mei")]


async def test_an_auditor_changes_their_own_password_though_they_change_nothing_else(console: Console) -> None:
    ada = await console.signed_in("ada")
    assert (await change(ada, PASSWORD, NEW))[0] == 303
    assert (await console.person().sign_in("ada", NEW)).status_code == 303


@pytest.mark.parametrize(("current", "new", "again", "message"), [
    ("wrong password here", NEW, None, "The current password is wrong"),
    (PASSWORD, NEW, NEW + "!", "The two new passwords differ."),
    (PASSWORD, PASSWORD, None, "Choose a password other than the current one."),
    (PASSWORD, "short", None, "a password has at least 12 characters"),
    (PASSWORD, "x" * 1025, None, "a password has at most 1024 characters"),
])
async def test_a_change_that_cannot_be_made_says_why_and_changes_nothing(
    console: Console, current: str, new: str, again: str | None, message: str
) -> None:
    mei = await console.signed_in("mei")
    status, text = await change(mei, current, new, again)
    assert status == 400 and message in text
    assert (await mei.http.get("/admin/account")).status_code == 200
    assert (await console.person().sign_in("mei", PASSWORD)).status_code == 303


async def test_guessing_the_current_password_locks_the_account(console: Console) -> None:
    mei = await console.signed_in("mei")
    for n in range(5):
        assert (await change(mei, f"guess number {n:04d}", NEW))[0] == 400
    assert (await change(mei, PASSWORD, NEW))[0] == 400  # locked, even with the right one
    assert (await console.person().sign_in("mei", PASSWORD)).status_code == 401


async def test_a_change_without_the_forms_token_or_from_another_site_is_refused(console: Console) -> None:
    mei = await console.signed_in("mei")
    fields = {"current": PASSWORD, "new": NEW, "again": NEW}
    assert (await mei.http.post("/admin/account/password", data=fields)).status_code == 403
    foreign = await mei.form("/admin/account/password", fields, headers={"origin": "https://evil.test"})
    assert foreign.status_code == 403
    stranger = await console.person().http.post("/admin/account/password", data=fields)
    assert stranger.status_code == 303 and stranger.headers["location"].startswith("/admin/signin")
    assert (await console.person().sign_in("mei", PASSWORD)).status_code == 303
