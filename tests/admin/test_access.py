"""Who may do what: every role against the pages and the admin API, signed out, CSRF and Origin."""

from __future__ import annotations

import pytest

from tests.admin.conftest import Console, public_jwk

PAGES = ["/admin/", "/admin/departments", "/admin/clients", "/admin/clients/x", "/admin/admin-log",
         "/admin/account", "/admin/account/totp", "/admin/no-such-page"]
API_READS = ["/me", "/departments", "/clients", "/admin-log", "/no-such-route"]


async def test_a_signed_out_visitor_is_sent_to_the_sign_in_page_from_every_console_path(console: Console) -> None:
    person = console.person()
    for path in PAGES:
        response = await person.http.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/admin/signin?next=")
    for path in ("/admin/departments", "/admin/clients", "/admin/signout", "/admin/clients/x"):
        assert (await person.http.post(path, data={"name": "x"})).status_code == 303
    for method, path in (("GET", "/admin/signout"), ("PUT", "/admin/departments"), ("DELETE", "/admin/")):
        response = await person.http.request(method, path)
        assert response.status_code == 303 and response.headers["location"].startswith("/admin/signin"), path
    assert (await person.http.put("/admin/api/departments")).status_code == 401


async def test_a_signed_out_caller_of_the_admin_api_gets_401_and_nothing_else(console: Console) -> None:
    person = console.person()
    for path in API_READS:
        response = await person.http.get(f"/admin/api{path}")
        assert response.status_code == 401, path
        assert response.json()["error"] == "signed_out"
    response = await person.http.post("/admin/api/departments", json={"name": "transport", "title": "T"})
    assert response.status_code == 401
    assert [d.name for d in await console.registry.departments()] == ["ecology", "market"]


@pytest.mark.parametrize("username", ["mei", "dev"])
async def test_stewards_and_developers_cannot_open_the_registry_or_the_admin_log(
    console: Console, username: str
) -> None:
    person = await console.signed_in(username)
    for path in ("/admin/departments", "/admin/clients", "/admin/admin-log"):
        assert (await person.http.get(path)).status_code == 403, path
    for path in ("/departments", "/admin-log"):
        assert (await person.api("GET", path)).status_code == 403, path


async def test_a_developer_cannot_see_the_audit_but_sees_their_own_account(console: Console) -> None:
    person = await console.signed_in("dev")
    log = await person.http.get("/admin/admin-log")
    assert log.status_code == 403 and "developer cannot open this page" in log.text
    me = (await person.api("GET", "/me")).json()
    assert me["role"] == "developer" and me["clients"] == [console.market_client]


async def test_a_steward_sees_the_clients_of_their_own_department_and_no_other(console: Console) -> None:
    person = await console.signed_in("mei")
    own = await person.api("GET", "/clients")
    assert [c["client_id"] for c in own.json()["clients"]] == [console.market_client]
    other = await person.api("GET", "/clients", params={"department": "ecology"})
    assert other.status_code == 403
    assert "you act for department market, not ecology" in other.json()["message"]


async def test_a_steward_cannot_change_the_registry_not_even_for_their_own_department(console: Console) -> None:
    person = await console.signed_in("mei")
    response = await person.api("POST", f"/clients/{console.market_client}/status", {"status": "disabled"})
    assert response.status_code == 403
    assert (await console.registry.client(console.market_client)).status == "active"  # type: ignore[union-attr]


async def test_an_auditor_reads_the_registry_and_the_log_but_changes_nothing(console: Console) -> None:
    person = await console.signed_in("ada")
    assert (await person.http.get("/admin/departments")).status_code == 200
    assert (await person.api("GET", "/admin-log")).status_code == 200
    changes = [
        ("POST", "/departments", {"name": "transport", "title": "Transport"}),
        ("POST", "/departments/market/status", {"status": "disabled"}),
        ("POST", "/clients", {"department": "market", "name": "x", "jwk": public_jwk()}),
        ("POST", f"/clients/{console.market_client}/status", {"status": "disabled"}),
        ("POST", f"/clients/{console.market_client}/keys", {"jwk": public_jwk()}),
        ("DELETE", f"/clients/{console.market_client}/keys/any", None),
    ]
    for method, path, body in changes:
        assert (await person.api(method, path, body)).status_code == 403, path
    page = await person.form("/admin/departments/market/status", {"status": "disabled"})
    assert page.status_code == 403 and "an auditor reads" in page.text
    assert all(d.status == "active" for d in await console.registry.departments())
    assert (await console.registry.client(console.market_client)).status == "active"  # type: ignore[union-attr]


async def test_an_api_change_without_the_csrf_header_or_with_a_wrong_one_is_refused(console: Console) -> None:
    person = await console.signed_in("olga")
    body = {"status": "disabled"}
    path = f"/admin/api/clients/{console.market_client}/status"
    assert (await person.http.post(path, json=body)).status_code == 403
    assert (await person.http.post(path, json=body, headers={"x-csrf-token": "wrong"})).status_code == 403
    other = await console.signed_in("olga")  # another session's token is not this one's
    other_token = await other.csrf()
    assert (await person.http.post(path, json=body, headers={"x-csrf-token": other_token})).status_code == 403
    assert (await console.registry.client(console.market_client)).status == "active"  # type: ignore[union-attr]
    assert (await person.api("POST", path.removeprefix("/admin/api"), body)).status_code == 200


async def test_a_form_without_its_csrf_field_or_from_another_origin_is_refused(console: Console) -> None:
    person = await console.signed_in("olga")
    form = {"name": "transport", "title": "Transport"}
    assert (await person.http.post("/admin/departments", data=form)).status_code == 403
    assert (await person.http.post("/admin/departments", data={**form, "csrf": "x"})).status_code == 403
    token = await person.csrf()
    from_elsewhere = await person.http.post(
        "/admin/departments", data={**form, "csrf": token}, headers={"origin": "https://evil.test"}
    )
    assert from_elsewhere.status_code == 403
    no_origin = await person.http.post(
        "/admin/departments", data={**form, "csrf": token}, headers={"origin": ""}
    )
    assert no_origin.status_code == 403
    assert "transport" not in [d.name for d in await console.registry.departments()]
    assert (await person.http.post("/admin/departments", data={**form, "csrf": token})).status_code == 303


async def test_an_oversized_change_request_is_refused_before_it_is_read(console: Console) -> None:
    person = await console.signed_in("olga")
    response = await person.api("POST", "/departments", {"name": "t" * 40, "title": "x" * 70_000})
    assert response.status_code == 413


async def test_a_signed_in_person_gets_405_for_a_method_a_path_does_not_take(console: Console) -> None:
    person = await console.signed_in("olga")
    assert (await person.http.get("/admin/signout")).status_code == 405
    assert (await person.http.put("/admin/api/departments")).status_code == 405
