"""The operator's accounts page: create, disable and enable accounts; nobody else changes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.admin.conftest import PASSWORD, Console, sqlite_url


@pytest.fixture
def console_url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path)


async def test_an_operator_creates_a_steward_who_can_then_sign_in(console: Console) -> None:
    olga = await console.signed_in("olga")
    created = await olga.form("/admin/accounts", {
        "username": "wu", "name": "Wu Steward", "role": "steward", "department": "ecology", "password": PASSWORD,
    })
    assert created.status_code == 303
    wu = await console.signed_in("wu")
    assert (await wu.api("GET", "/me")).json()["department"] == "ecology"
    log = (await olga.api("GET", "/admin-log", params={"target": "wu"})).json()["actions"]
    assert [a["action"] for a in log] == ["account.create"]


@pytest.mark.parametrize(("form", "message"), [
    ({"username": "Wu!", "role": "auditor"}, "a username is"),
    ({"username": "wu", "role": "emperor"}, "role must be one of"),
    ({"username": "wu", "role": "steward"}, "belong to a department"),
    ({"username": "wu", "role": "auditor", "password": "short"}, "at least 12 characters"),
    ({"username": "wu", "role": "developer", "department": "market", "clients": "ecology-x"}, "no client"),
])
async def test_an_account_with_bad_input_is_refused_on_the_page(
    console: Console, form: dict[str, str], message: str
) -> None:
    olga = await console.signed_in("olga")
    page = await olga.form("/admin/accounts", {"password": PASSWORD, **form})
    assert page.status_code == 400 and message in page.text


async def test_a_username_taken_is_a_conflict_shown_on_the_page(console: Console) -> None:
    olga = await console.signed_in("olga")
    page = await olga.form("/admin/accounts", {"password": PASSWORD, "username": "olga", "role": "auditor"})
    assert page.status_code == 409 and "exists" in page.text


async def test_an_account_not_there_is_not_found_and_a_name_no_account_can_have_is_bad_input(
    console: Console,
) -> None:
    olga = await console.signed_in("olga")
    page = await olga.form("/admin/accounts/nobody/status", {"disabled": "true"})
    assert page.status_code == 404 and "nobody" in page.text
    page = await olga.form("/admin/accounts/No%20Body!/status", {"disabled": "true"})
    assert page.status_code == 400


async def test_disabling_an_account_ends_its_open_session_and_enabling_lets_it_back(console: Console) -> None:
    mei = await console.signed_in("mei")
    olga = await console.signed_in("olga")
    assert (await olga.form("/admin/accounts/mei/status", {"disabled": "true"})).status_code == 303
    assert (await mei.http.get("/admin/")).status_code == 303
    assert (await console.person().sign_in("mei", PASSWORD)).status_code == 401
    assert (await olga.form("/admin/accounts/mei/status", {"disabled": "false"})).status_code == 303
    assert (await console.person().sign_in("mei", PASSWORD)).status_code == 303


async def test_an_operator_cannot_disable_themself_and_others_cannot_change_accounts(console: Console) -> None:
    olga = await console.signed_in("olga")
    own = await olga.form("/admin/accounts/olga/status", {"disabled": "true"})
    assert own.status_code == 403
    for username in ("ada", "mei", "dev"):
        person = await console.signed_in(username)
        made = await person.form("/admin/accounts", {"username": "wu", "role": "operator", "password": PASSWORD})
        assert made.status_code == 403, username
        assert (await person.form("/admin/accounts/olga/status", {"disabled": "true"})).status_code == 403
    assert (await console.accounts.get("wu")) is None
    assert not (await console.accounts.get("olga")).disabled  # type: ignore[union-attr]
    assert (await (await console.signed_in("ada")).http.get("/admin/accounts")).status_code == 200
