"""Adversarial review of the console and the admin API (part 1): who reaches what, cross-department
grant work, CSRF and Origin, and what the JSON API does with bodies it should not take.

A passing test is a property that holds; an ``xfail(strict=True)`` test asserts the correct
behaviour for a finding of the review (its reason names the finding) and flips when it is fixed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hub.client import new_client_key
from tests.admin.conftest import ORIGIN, PASSWORD, Console, Person, csrf_field, public_jwk, sqlite_url
from tests.admin.developer_helpers import grant, public_of, token_request

CONDITIONAL = "market.finance:read"
UNCONDITIONAL = "market.enterprise:read"
G_UNKNOWN, R_UNKNOWN = "g-0123456789abcdef", "r-0123456789abcdef"


@pytest.fixture
def console_url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path)


def asking(client_id: str, scope: str = CONDITIONAL, **changes: Any) -> dict[str, Any]:
    return {"client_id": client_id, "scopes": [scope], "purposes": ["licensing"],
            "legal_basis": "Regulation on permits, art. 12", "duration_days": 365, **changes}


async def pending(console: Console, eli: Person) -> str:
    made = await eli.api("POST", "/grant-requests", asking(console.ecology_client))
    assert made.status_code == 201, made.text
    return str(made.json()["request_id"])


async def held_grant(console: Console, eli: Person, mei: Person) -> str:
    approved = await mei.api("POST", f"/grant-requests/{await pending(console, eli)}/approve")
    assert approved.status_code == 201, approved.text
    return str(approved.json()["grant_id"])


@pytest.fixture
async def third(console: Console) -> AsyncIterator[Person]:
    """Tom, steward of a third department (transport), a party to nothing between market and ecology."""
    await console.registry.add_department("transport", "Transport")
    await console.registry.register_client("transport", "fleet system", public_jwk())
    await console.accounts.create("tom", "Tom Transport-Steward", "steward", PASSWORD, "transport")
    yield await console.signed_in("tom")


# Every state-changing route: (method, path, form or JSON body). Ids are filled per test.
Route = tuple[str, str, dict[str, Any]]


def changing_routes(console: Console, request_id: str, grant_id: str) -> list[Route]:
    client = console.market_client
    return [
        ("POST", "/admin/departments", {"name": "transport", "title": "T"}),
        ("POST", "/admin/departments/market/status", {"status": "disabled"}),
        ("POST", "/admin/clients", {"department": "market", "name": "x"}),
        ("POST", f"/admin/clients/{client}", {"change": "status", "status": "disabled"}),
        ("POST", "/admin/accounts",
         {"username": "zed", "name": "Z", "role": "operator", "password": PASSWORD}),
        ("POST", "/admin/accounts/mei/status", {"disabled": "true"}),
        ("POST", "/admin/grants/request", {"client_id": console.ecology_client, "scope": CONDITIONAL,
                                           "purposes": "licensing", "legal_basis": "x",
                                           "duration_days": "5"}),
        ("POST", f"/admin/grant-requests/{request_id}/approve", {}),
        ("POST", f"/admin/grant-requests/{request_id}/refuse", {"reason": "no"}),
        ("POST", f"/admin/grant-requests/{request_id}/withdraw", {"reason": "no"}),
        ("POST", f"/admin/grants/{grant_id}/revoke", {"reason": "no"}),
        ("POST", f"/admin/grants/{grant_id}/recertify", {}),
        ("POST", f"/admin/grants/{grant_id}/remove-purpose", {"purpose": "licensing"}),
        ("POST", "/admin/api/departments", {"name": "transport", "title": "T"}),
        ("POST", "/admin/api/departments/market/status", {"status": "disabled"}),
        ("POST", "/admin/api/clients", {"department": "market", "name": "x", "jwk": public_jwk()}),
        ("POST", f"/admin/api/clients/{client}/status", {"status": "disabled"}),
        ("POST", f"/admin/api/clients/{client}/keys", {"jwk": public_jwk()}),
        ("DELETE", f"/admin/api/clients/{client}/keys/some-kid", {}),
        ("POST", "/admin/api/grants", asking(console.ecology_client, UNCONDITIONAL)),
        ("POST", f"/admin/api/grants/{grant_id}/revoke", {"reason": "no"}),
        ("POST", "/admin/api/grant-requests", asking(console.ecology_client)),
        ("POST", f"/admin/api/grant-requests/{request_id}/approve", {}),
        ("POST", f"/admin/api/grant-requests/{request_id}/refuse", {"reason": "no"}),
    ]


async def send(person: Person, method: str, path: str, body: dict[str, Any], csrf: str | None,
               origin: str | None = ORIGIN) -> int:
    headers: dict[str, str] = {}
    if origin is None:
        person.http.headers.pop("origin", None)
    else:
        headers["origin"] = origin
    if path.startswith("/admin/api"):
        if csrf is not None:
            headers["x-csrf-token"] = csrf
        response = await person.http.request(method, path, json=body, headers=headers)
    else:
        data = {**body, **({"csrf": csrf} if csrf is not None else {})}
        response = await person.http.request(method, path, data=data, headers=headers)
    if origin is None:
        person.http.headers["origin"] = ORIGIN
    return response.status_code


# --- signed out -------------------------------------------------------------------------------------


async def test_signed_out_the_exports_audit_records_assets_and_unknown_ids_all_lead_to_the_same_sign_in(
    console: Console,
) -> None:
    person = console.person()
    for path in ("/admin/catalogue.json", "/admin/catalogue.csv", "/admin/catalogue.xml", "/admin/catalogue",
                 "/admin/audit/records/1", "/admin/audit/records/987654", "/admin/audit/records/x",
                 "/admin/audit/chain", "/admin/audit/who?identifier=x", "/admin/developer",
                 "/admin/developer/assets/graphiql.min.js", "/admin/grants", "/admin/accounts"):
        response = await person.http.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/admin/signin?next="), path
        assert response.content == b"", path


async def test_signed_out_the_api_answers_401_alike_for_known_unknown_and_malformed_ids(
    console: Console,
) -> None:
    person = console.person()
    calls = [("GET", "/admin/api/grants"), ("GET", "/admin/api/grant-requests"),
             ("GET", "/admin/api/developer/schema"), ("POST", "/admin/api/developer/token"),
             ("POST", f"/admin/api/grants/{G_UNKNOWN}/revoke"), ("POST", "/admin/api/grants/nope/revoke"),
             ("POST", f"/admin/api/grant-requests/{R_UNKNOWN}/approve"),
             ("DELETE", f"/admin/api/clients/{console.market_client}/keys/k"),
             ("DELETE", "/admin/api/clients/nobody/keys/k"), ("PATCH", "/admin/api/me")]
    bodies = set()
    for method, path in calls:
        response = await person.http.request(method, path)
        assert response.status_code == 401, (method, path)
        bodies.add(response.content)
    assert len(bodies) == 1


async def test_signed_out_only_the_stylesheets_and_scripts_are_served_and_never_outside_static(
    console: Console,
) -> None:
    """The sign-in page needs the stylesheet, so /admin/static is public: it holds nothing else."""
    person = console.person()
    assert sorted(p.name for p in (Path("hub/admin/static")).iterdir()) == [
        "console.css", "developer-graphiql.js", "developer.css", "grants.css"]
    assert (await person.http.get("/admin/static/console.css")).status_code == 200
    for path in ("/admin/static/..%2fapp.py", "/admin/static/%2e%2e/app.py",
                 "/admin/static/../templates/base.html"):
        assert (await person.http.get(path)).status_code in (303, 404), path


async def test_a_session_still_owing_its_totp_code_reaches_no_page_and_no_api(console: Console) -> None:
    await console.accounts.set_totp("mei", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    person = console.person()
    assert (await person.sign_in("mei", PASSWORD)).headers["location"] == "/admin/signin/totp"
    assert (await person.http.get("/admin/grants")).status_code == 303
    assert (await person.http.get("/admin/api/me")).status_code == 401
    assert (await person.http.get("/admin/catalogue.json")).status_code == 303


# --- roles ------------------------------------------------------------------------------------------


async def test_an_auditor_is_refused_every_state_changing_route_and_nothing_changes(console: Console) -> None:
    ada, eli, mei = [await console.signed_in(u) for u in ("ada", "eli", "mei")]
    grant_id = await held_grant(console, eli, mei)
    request_id = await pending(console, eli)
    csrf = await ada.csrf()
    for method, path, body in changing_routes(console, request_id, grant_id):
        assert await send(ada, method, path, body, csrf) == 403, path
    token = await ada.api("POST", "/developer/token", {"client_id": console.market_client})
    assert token.status_code == 403
    assert [d.status for d in await console.registry.departments()] == ["active", "active"]
    assert not (await console.accounts.get("mei")).disabled  # type: ignore[union-attr]
    requests = (await ada.api("GET", "/grant-requests?status=pending")).json()["requests"]
    assert [r["request_id"] for r in requests] == [request_id]


async def test_a_developer_reaches_no_grant_audit_log_account_or_registry_route(console: Console) -> None:
    dev = await console.signed_in("dev")
    for path in ("/admin/grants", "/admin/grants/request", "/admin/audit", "/admin/audit/who?identifier=x",
                 "/admin/audit/chain", "/admin/audit/records/1", "/admin/admin-log", "/admin/accounts",
                 "/admin/departments", "/admin/clients", f"/admin/clients/{console.market_client}"):
        assert (await dev.http.get(path)).status_code == 403, path
    for path in ("/grants", "/grant-requests", "/admin-log", "/departments"):
        assert (await dev.api("GET", path)).status_code == 403, path
    for method, path, body in changing_routes(console, R_UNKNOWN, G_UNKNOWN):
        assert await send(dev, method, path, body, await dev.csrf()) == 403, path


@pytest.mark.parametrize("username", ["mei", "dev"])
async def test_only_the_operator_registers_blocks_or_rekeys_and_manages_accounts(
    console: Console, username: str
) -> None:
    person = await console.signed_in(username)
    csrf = await person.csrf()
    for method, path, body in changing_routes(console, R_UNKNOWN, G_UNKNOWN):
        if "grant" in path and username == "mei":
            continue
        assert await send(person, method, path, body, csrf) == 403, path


async def test_a_developer_gets_no_token_for_another_departments_client_or_an_unlisted_one(
    console: Console,
) -> None:
    dev = await console.signed_in("dev")
    other = await console.registry.register_client("market", "second system", public_jwk())
    await grant(console, console.ecology_client, {"ecology.discharge_permit:read"})
    await grant(console, other.client_id, {UNCONDITIONAL})
    for client_id in (console.ecology_client, other.client_id, "", None, [console.market_client]):
        assert (await token_request(dev, client_id)).status_code == 403, client_id  # type: ignore[arg-type]
        query = {"client_id": str(client_id), "purpose": "licensing"}
        assert (await dev.http.get("/admin/api/developer/schema", params=query)).status_code == 403
        assert (await dev.http.get("/admin/developer/graphiql", params=query)).status_code == 403


async def test_a_developer_gets_no_token_for_a_client_without_grants_blocked_or_of_a_blocked_department(
    console: Console,
) -> None:
    dev = await console.signed_in("dev")
    no_grants = await token_request(dev, console.market_client)
    assert no_grants.status_code == 400 and "none" in no_grants.json()["message"]
    await grant(console, console.market_client, {UNCONDITIONAL})
    assert (await token_request(dev, console.market_client, purpose="marketing")).status_code == 400
    assert (await token_request(dev, console.market_client)).status_code == 200
    await console.registry.set_status(console.market_client, "disabled")
    assert (await token_request(dev, console.market_client)).status_code == 403
    await console.registry.set_status(console.market_client, "active")
    await console.registry.set_department_status("market", "disabled")
    assert (await token_request(dev, console.market_client)).status_code == 403


async def test_a_developer_token_refuses_a_dpop_key_with_private_members_or_off_the_curve(
    console: Console,
) -> None:
    dev = await console.signed_in("dev")
    await grant(console, console.market_client, {UNCONDITIONAL})
    key = new_client_key()
    off_curve = {**public_of(key), "y": public_of(new_client_key())["y"]}
    rsa = {"kty": "RSA", "n": "AQAB", "e": "AQAB"}
    for jwk in (key, off_curve, rsa, {**public_of(key), "crv": "P-384"}, "x", None):
        body = {"client_id": console.market_client, "purpose": "licensing", "jwk": jwk}
        assert (await dev.api("POST", "/developer/token", body)).status_code == 400, jwk


# --- a steward and another department's grant work ------------------------------------------------


async def test_a_steward_cannot_answer_recertify_or_narrow_what_another_department_owns(
    console: Console,
) -> None:
    eli, mei = await console.signed_in("eli"), await console.signed_in("mei")
    request_id = await pending(console, eli)
    grant_id = await held_grant(console, eli, mei)
    assert (await eli.api("POST", f"/grant-requests/{request_id}/approve")).status_code == 403
    refused = await eli.api("POST", f"/grant-requests/{request_id}/refuse", {"reason": "mine"})
    assert refused.status_code == 403
    for path, data in ((f"/admin/grant-requests/{request_id}/approve", {}),
                       (f"/admin/grant-requests/{request_id}/refuse", {"reason": "x"}),
                       (f"/admin/grants/{grant_id}/recertify", {}),
                       (f"/admin/grants/{grant_id}/remove-purpose", {"purpose": "licensing"})):
        assert (await eli.form(path, data)).status_code == 403, path
    assert (await mei.form(f"/admin/grant-requests/{request_id}/withdraw", {})).status_code == 403
    status = (await mei.api("GET", "/grant-requests?side=owner")).json()["requests"]
    assert {r["request_id"]: r["status"] for r in status}[request_id] == "pending"


async def test_a_steward_of_a_third_department_can_neither_read_nor_touch_the_others_grants(
    console: Console, third: Person,
) -> None:
    eli, mei = await console.signed_in("eli"), await console.signed_in("mei")
    request_id = await pending(console, eli)
    grant_id = await held_grant(console, eli, mei)
    assert (await third.api("POST", f"/grants/{grant_id}/revoke", {"reason": "x"})).status_code == 403
    assert (await third.form(f"/admin/grants/{grant_id}/revoke", {"reason": "x"})).status_code == 403
    for verb in ("approve", "refuse", "withdraw"):
        answer = await third.form(f"/admin/grant-requests/{request_id}/{verb}", {"reason": "x"})
        assert answer.status_code == 403, verb
    assert (await third.api("GET", "/grants")).json()["grants"] == []
    assert (await third.api("GET", "/grant-requests")).json()["requests"] == []
    for query in ("?department=market", "?department=ecology"):
        assert (await third.api("GET", f"/grants{query}")).status_code == 403
        assert (await third.api("GET", f"/grant-requests{query}")).status_code == 403
        assert (await third.http.get(f"/admin/grants{query}")).status_code == 403
    page = await third.http.get("/admin/grants")
    assert grant_id not in page.text and request_id not in page.text


async def test_a_steward_cannot_request_for_or_list_the_clients_of_another_department(
    console: Console,
) -> None:
    mei = await console.signed_in("mei")
    assert (await mei.api("POST", "/grant-requests", asking(console.ecology_client))).status_code == 403
    made = await mei.form("/admin/grants/request", {
        "client_id": console.ecology_client, "scope": "ecology.discharge_permit:read",
        "purposes": "licensing",
        "legal_basis": "x", "duration_days": "30"})
    assert made.status_code == 403
    assert (await mei.api("POST", "/grants", asking(console.market_client, UNCONDITIONAL))).status_code == 403
    assert (await mei.api("GET", "/clients?department=ecology")).status_code == 403
    page = await mei.http.get("/admin/grants/request")
    assert console.ecology_client not in page.text and console.market_client in page.text


async def test_an_uninvolved_steward_gets_403_whatever_the_state_of_the_request_or_client_they_probe(
    console: Console, third: Person,
) -> None:
    """Finding 5 (fixed): who acts is checked before the state of the request, grant or client."""
    eli, mei = await console.signed_in("eli"), await console.signed_in("mei")
    request_id = await pending(console, eli)
    grant_id = await held_grant(console, eli, mei)
    await eli.form(f"/admin/grant-requests/{request_id}/withdraw", {"reason": "changed plans"})
    assert (await third.api("POST", f"/grant-requests/{request_id}/approve")).status_code == 403
    refused = await third.api("POST", f"/grant-requests/{request_id}/refuse", {"reason": "x"})
    assert refused.status_code == 403
    for verb in ("approve", "refuse", "withdraw"):
        answer = await third.form(f"/admin/grant-requests/{request_id}/{verb}", {"reason": "x"})
        assert answer.status_code == 403, verb
    assert (await mei.api("POST", f"/grants/{grant_id}/revoke", {"reason": "ended"})).status_code == 200
    assert (await third.api("POST", f"/grants/{grant_id}/revoke", {"reason": "x"})).status_code == 403
    for path, data in ((f"/admin/grants/{grant_id}/revoke", {"reason": "x"}),
                       (f"/admin/grants/{grant_id}/recertify", {}),
                       (f"/admin/grants/{grant_id}/remove-purpose", {"purpose": "licensing"})):
        assert (await third.form(path, data)).status_code == 403, path
    await console.registry.set_status(console.ecology_client, "disabled")
    assert (await third.api("POST", "/grant-requests", asking(console.ecology_client))).status_code == 403
    # The parties themselves are still told the state.
    again = await mei.api("POST", f"/grant-requests/{request_id}/approve")
    assert again.status_code == 409 and "is withdrawn, not pending" in again.json()["message"]
    blocked = await eli.api("POST", "/grant-requests", asking(console.ecology_client))
    assert blocked.status_code == 400 and "is disabled" in blocked.json()["message"]


# --- CSRF and Origin --------------------------------------------------------------------------------


async def test_every_change_without_the_csrf_token_or_from_another_or_no_origin_is_refused(
    console: Console,
) -> None:
    olga = await console.signed_in("olga")
    eli, mei = await console.signed_in("eli"), await console.signed_in("mei")
    grant_id = await held_grant(console, eli, mei)
    request_id = await pending(console, eli)
    csrf = await olga.csrf()
    for method, path, body in changing_routes(console, request_id, grant_id):
        assert await send(olga, method, path, body, None) == 403, path
        assert await send(olga, method, path, body, "x" + csrf[1:]) == 403, path
        assert await send(olga, method, path, body, await mei.csrf()) == 403, path
        for origin in ("https://evil.test", "null", "http://hub.test", "https://hub.test:444"):
            assert await send(olga, method, path, body, csrf, origin) == 403, (path, origin)
        assert await send(olga, method, path, body, csrf, None) == 403, path
    assert [d.status for d in await console.registry.departments()] == ["active", "active"]
    assert len(await console.accounts.all()) == 5
    assert len((await olga.api("GET", "/grant-requests?status=pending")).json()["requests"]) == 1


async def test_the_api_takes_no_csrf_token_from_a_cross_site_form_body(console: Console) -> None:
    olga = await console.signed_in("olga")
    csrf = await olga.csrf()
    for content_type in ("application/x-www-form-urlencoded", "text/plain"):
        body = f"csrf={csrf}&name=transport&title=T"
        response = await olga.http.post("/admin/api/departments", content=body,
                                        headers={"content-type": content_type})
        assert response.status_code == 403, content_type
    response = await olga.http.post("/admin/api/departments", files={"csrf": (None, csrf)})
    assert response.status_code == 403
    assert [d.name for d in await console.registry.departments()] == ["ecology", "market"]


async def test_sign_in_totp_and_sign_out_forms_refuse_another_origin(console: Console) -> None:
    person = console.person()
    page = await person.http.get("/admin/signin")
    form = {"csrf": csrf_field(page.text), "username": "olga", "password": PASSWORD}
    assert (await person.http.post("/admin/signin", data=form, headers={"origin": "https://evil.test"})
            ).status_code == 403
    olga = await console.signed_in("olga")
    home = await olga.http.get("/admin/")
    signout = await olga.http.post("/admin/signout", data={"csrf": csrf_field(home.text)},
                                   headers={"origin": "https://evil.test"})
    assert signout.status_code == 403
    assert (await olga.http.get("/admin/api/me")).status_code == 200


# --- input ------------------------------------------------------------------------------------------


async def test_the_grant_api_refuses_wrong_types_and_out_of_range_values_with_400(console: Console) -> None:
    eli = await console.signed_in("eli")
    client = console.ecology_client
    for changes in ({"scopes": CONDITIONAL}, {"scopes": [CONDITIONAL, 1]}, {"scopes": []},
                    {"scopes": ["market.finance:write"]}, {"scopes": ["market.*"]},
                    {"scopes": [CONDITIONAL, "ecology.discharge_permit:read"]},
                    {"scopes": [f"x{i}" for i in range(3000)]},
                    {"purposes": "licensing"}, {"purposes": []}, {"purposes": ["Licensing"]},
                    {"purposes": ["a" * 65]}, {"purposes": ["<script>"]},
                    {"duration_days": -1}, {"duration_days": 0}, {"duration_days": 1096},
                    {"duration_days": "365"}, {"duration_days": 1.5}, {"duration_days": True},
                    {"duration_days": 10**40}, {"legal_basis": ""}, {"legal_basis": 5},
                    {"legal_basis": "x" * 2001}, {"client_id": 5}, {"client_id": "nobody"}):
        response = await eli.api("POST", "/grant-requests", {**asking(client), **changes})
        assert response.status_code == 400, (str(changes)[:80], response.text[:200])
    for body in ([asking(client)], "text", None, 7):
        assert (await eli.api("POST", "/grant-requests", body)).status_code == 400, body
    response = await eli.http.post("/admin/api/grant-requests", content=b"{not json",
                                   headers={"x-csrf-token": await eli.csrf()})
    assert response.status_code == 400
    assert (await eli.api("GET", "/grant-requests")).json()["requests"] == []


async def test_path_ids_that_are_not_ids_are_400_and_unknown_ids_404(console: Console) -> None:
    olga = await console.signed_in("olga")
    for path in ("/grants/nope/revoke", "/grants/g-XYZ/revoke", "/grant-requests/%27%3B--/approve",
                 f"/grant-requests/{'r-' + '0' * 500}/refuse"):
        assert (await olga.api("POST", path, {"reason": "x"})).status_code == 400, path
    assert (await olga.api("POST", f"/grants/{G_UNKNOWN}/revoke", {"reason": "x"})).status_code == 404
    assert (await olga.api("POST", f"/grant-requests/{R_UNKNOWN}/approve")).status_code == 404
    for path in ("/admin/audit/records/abc", "/admin/audit/records/-1", "/admin/audit/records/0",
                 "/admin/audit/records/99999999999999999999999", "/admin/audit/records/1.5"):
        assert (await olga.http.get(path)).status_code == 404, path
    for path in ("/clients/%00/status", "/clients/nobody/status"):
        assert (await olga.api("POST", path, {"status": "disabled"})).status_code == 400, path
    assert (await olga.api("POST", f"/clients/{console.market_client}/status", {"status": "gone"})
            ).status_code == 400


async def test_a_body_over_64_kb_is_refused_when_it_says_its_length(console: Console) -> None:
    olga = await console.signed_in("olga")
    body = {"name": "transport", "title": "T" * 70_000}
    assert (await olga.api("POST", "/departments", body)).status_code == 413
    response = await olga.form("/admin/departments", {"name": "transport", "title": "T" * 70_000})
    assert response.status_code == 413


async def test_a_chunked_body_over_64_kb_is_refused_too(console: Console) -> None:
    olga = await console.signed_in("olga")
    csrf = await olga.csrf()

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "transport", "jurisdiction": "", "title": "'
        for _ in range(100):
            yield b"T" * 1024
        yield b'"}'

    response = await olga.http.post("/admin/api/departments", content=chunks(),
                                    headers={"x-csrf-token": csrf, "content-type": "application/json"})
    assert response.status_code == 413, response.text[:200]


async def test_a_sign_in_form_over_64_kb_is_refused_before_it_is_read(console: Console) -> None:
    person = console.person()
    page = await person.http.get("/admin/signin")
    response = await person.http.post("/admin/signin", data={
        "csrf": csrf_field(page.text), "username": "olga", "password": "p" * 1_000_000})
    assert response.status_code == 413


async def test_deeply_nested_json_is_answered_400_not_a_server_error(console: Console) -> None:
    olga = await console.signed_in("olga")
    csrf = await olga.csrf()
    for path in ("/admin/api/grant-requests", "/admin/api/departments", "/admin/api/developer/token"):
        response = await olga.http.post(path, content=b"[" * 60_000, headers={"x-csrf-token": csrf})
        assert response.status_code in (400, 403), path
