"""The operator's registry work in the console: departments, clients from uploaded JWK files, key
rotation, blocking, each on the admin log; and a block takes effect on the next token request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.client import HubAuth, new_client_key
from hub.grants import GrantService
from hub.oauth.errors import InvalidToken
from tests.admin.conftest import ORIGIN, Console, public_jwk, sqlite_url
from tests.oauth.conftest import OPERATOR, SCOPE, grant_catalogue


@pytest.fixture
def console_url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path)


def upload(jwk: Any) -> dict[str, tuple[str, bytes, str]]:
    return {"jwk": ("client.pub.json", json.dumps(jwk).encode(), "application/json")}


async def test_an_operator_registers_a_department_with_its_jurisdiction_and_blocks_it(console: Console) -> None:
    olga = await console.signed_in("olga")
    made = await olga.api("POST", "/departments", {"name": "transport", "title": "Transport", "jurisdiction": "1302"})
    assert made.status_code == 201 and made.json()["jurisdiction"] == "1302"
    blocked = await olga.api("POST", "/departments/transport/status", {"status": "disabled"})
    assert blocked.json()["status"] == "disabled"
    log = (await olga.api("GET", "/admin-log")).json()["actions"]
    assert [(a["action"], a["target"], a["actor"]) for a in log[:2]] == [
        ("department.block", "transport", "olga"), ("department.register", "transport", "olga"),
    ]


@pytest.mark.parametrize(("body", "message"), [
    ({"name": "Transport!", "title": "T"}, "a department name is"),
    ({"name": "transport", "title": ""}, "title is required"),
    ({"name": "transport", "title": "T", "jurisdiction": "13a"}, "a jurisdiction is a GB/T 2260 prefix"),
    ({"name": ["x"], "title": "T"}, "name must be text"),
])
async def test_a_department_with_bad_input_is_refused_with_the_reason(
    console: Console, body: dict[str, Any], message: str
) -> None:
    olga = await console.signed_in("olga")
    response = await olga.api("POST", "/departments", body)
    assert response.status_code == 400 and message in response.json()["message"]


async def test_a_department_name_taken_is_a_conflict(console: Console) -> None:
    olga = await console.signed_in("olga")
    response = await olga.api("POST", "/departments", {"name": "market", "title": "Again"})
    assert response.status_code == 409 and response.json() == {
        "error": "conflict", "message": "department 'market' is already registered",
    }
    page = await olga.form("/admin/departments", {"name": "market", "title": "Again"})
    assert page.status_code == 409 and "already registered" in page.text


async def test_an_api_body_that_is_not_a_json_object_is_refused(console: Console) -> None:
    olga = await console.signed_in("olga")
    for content in (b"not json", b"[1, 2]"):
        response = await olga.http.post(
            "/admin/api/departments", content=content,
            headers={"x-csrf-token": await olga.csrf(), "content-type": "application/json"},
        )
        assert response.status_code == 400 and "JSON object" in response.json()["message"]


async def test_a_client_is_registered_from_an_uploaded_public_jwk_file(console: Console) -> None:
    olga = await console.signed_in("olga")
    jwk = public_jwk()
    page = await olga.form("/admin/clients", {"department": "ecology", "name": "inspection app"}, files=upload(jwk))
    assert page.status_code == 303
    client_id = page.headers["location"].split("/")[-1].split("?")[0]
    client = await console.registry.client(client_id)
    assert client is not None and client.department == "ecology" and client.keys[0]["x"] == jwk["x"]
    shown = await olga.http.get(f"/admin/clients/{client_id}")
    assert "inspection app" in shown.text and client.keys[0]["kid"] in shown.text


@pytest.mark.parametrize(("content", "message"), [
    (json.dumps(new_client_key()).encode(), "private members (d)"),
    (b"{not json", "not JSON"),
    (b"[]", "a JWK is a JSON object"),
    (json.dumps({"kty": "RSA", "n": "x", "e": "AQAB"}).encode(), "only EC P-256 keys"),
    (b"{}" + b" " * 17_000, "at most 16 KB"),
])
async def test_an_uploaded_file_that_is_not_a_public_p256_jwk_is_refused(
    console: Console, content: bytes, message: str
) -> None:
    olga = await console.signed_in("olga")
    files = {"jwk": ("key.json", content, "application/json")}
    page = await olga.form("/admin/clients", {"department": "ecology", "name": "x"}, files=files)
    assert page.status_code == 400 and message in page.text
    assert len(await console.registry.clients("ecology")) == 1


async def test_a_client_without_a_file_or_for_an_unknown_department_is_refused(console: Console) -> None:
    olga = await console.signed_in("olga")
    no_file = await olga.form("/admin/clients", {"department": "ecology", "name": "x"})
    assert no_file.status_code == 400 and "choose the client" in no_file.text
    unknown = await olga.api("POST", "/clients", {"department": "nowhere", "name": "x", "jwk": public_jwk()})
    assert unknown.status_code == 400 and "no department" in unknown.json()["message"]


async def test_what_a_change_is_made_to_is_not_found_when_not_there_and_bad_input_when_malformed(
    console: Console,
) -> None:
    """The JSON API and the pages alike: a path naming nothing is 404, a path that cannot name anything 400."""
    olga = await console.signed_in("olga")
    key = (await console.registry.client(console.market_client)).keys[0]["kid"]  # type: ignore[union-attr]
    unknown = [
        ("POST", "/departments/nowhere/status", {"status": "disabled"}, "no department 'nowhere'"),
        ("POST", "/clients/market-0000000000000000/status", {"status": "disabled"}, "no client"),
        ("POST", "/clients/market-0000000000000000/keys", {"jwk": public_jwk()}, "no client"),
        ("DELETE", f"/clients/market-0000000000000000/keys/{key}", None, "no client"),
        ("DELETE", f"/clients/{console.market_client}/keys/k-none", None, "has no key 'k-none'"),
    ]
    for method, path, body, message in unknown:
        answer = await olga.api(method, path, body)
        assert (answer.status_code, answer.json()["error"]) == (404, "not_found"), path
        assert message in answer.json()["message"], path
    malformed = [
        ("POST", "/departments/Nowhere!/status", {"status": "disabled"}),
        ("POST", "/clients/nobody/status", {"status": "disabled"}),
        ("DELETE", f"/clients/{'market-' + '0' * 300}/keys/{key}", None),
    ]
    for method, path, body in malformed:
        answer = await olga.api(method, path, body)
        assert (answer.status_code, answer.json()["error"]) == (400, "bad_request"), path
    page = await olga.form("/admin/departments/nowhere/status", {"status": "disabled"})
    assert page.status_code == 404 and "nowhere" in page.text
    page = await olga.form("/admin/clients/market-0000000000000000", {"change": "status", "status": "disabled"})
    assert page.status_code == 404
    page = await olga.form(f"/admin/clients/{console.market_client}", {"change": "remove_key", "kid": "k-none"})
    assert page.status_code == 404 and "k-none" in page.text
    page = await olga.form("/admin/departments/Nowhere!/status", {"status": "disabled"})
    assert page.status_code == 400
    page = await olga.form("/admin/clients/nobody", {"change": "status", "status": "disabled"})
    assert page.status_code == 400 and "is not a client id" in page.text
    assert [d.status for d in await console.registry.departments()] == ["active"] * len(
        await console.registry.departments())
    assert (await console.registry.client(console.market_client)).keys[0]["kid"] == key  # type: ignore[union-attr]


async def test_an_operator_rotates_a_clients_key_by_adding_the_new_then_removing_the_old(console: Console) -> None:
    olga = await console.signed_in("olga")
    old = (await console.registry.client(console.market_client)).keys[0]["kid"]  # type: ignore[union-attr]
    added = await olga.form(f"/admin/clients/{console.market_client}", {"change": "add_key"}, files=upload(public_jwk()))
    assert added.status_code == 303
    removed = await olga.form(f"/admin/clients/{console.market_client}", {"change": "remove_key", "kid": old})
    assert removed.status_code == 303
    keys = (await console.registry.client(console.market_client)).keys  # type: ignore[union-attr]
    assert len(keys) == 1 and keys[0]["kid"] != old
    last = await olga.api("DELETE", f"/clients/{console.market_client}/keys/{keys[0]['kid']}")
    assert last.status_code == 400 and "keeps at least one key" in last.json()["message"]
    actions = [a["action"] for a in (await olga.api("GET", "/admin-log")).json()["actions"]]
    assert actions[:2] == ["client.key_remove", "client.key_add"]


async def _token_response(console: Console, auth: HubAuth) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=console.app), base_url=ORIGIN) as http:
        request = auth._token_request()
        return await http.send(request)


async def test_blocking_a_client_refuses_its_next_token_request_and_kills_the_token_it_holds(
    console: Console,
) -> None:
    olga = await console.signed_in("olga")
    key = new_client_key()
    made = await olga.api("POST", "/clients", {
        "department": "market", "name": "case system", "jwk": {k: v for k, v in key.items() if k != "d"},
    })
    client_id = made.json()["client_id"]
    service = GrantService(console.app.state.hub.oauth.parts.engine, grant_catalogue())
    await service.grant_now(OPERATOR, client_id, {SCOPE}, ("licensing",), "test", 30)
    auth = HubAuth(f"{ORIGIN}/oauth/token", client_id, key, f"{ORIGIN}/graphql", SCOPE)
    first = await _token_response(console, auth)
    assert first.status_code == 200, first.text
    token = first.json()["access_token"]

    page = await olga.form(f"/admin/clients/{client_id}", {"change": "status", "status": "disabled"})
    assert page.status_code == 303
    refused = await _token_response(console, auth)
    assert refused.status_code in (400, 401) and refused.json()["error"] == "invalid_client"
    with pytest.raises(InvalidToken):
        await console.app.state.hub.oauth.live(token)
    shown = await olga.http.get(f"/admin/clients/{client_id}")
    assert 'id="client-status" class="status-disabled">blocked' in shown.text


async def test_a_page_change_with_bad_input_shows_the_reason_on_the_page(console: Console) -> None:
    olga = await console.signed_in("olga")
    page = await olga.form(f"/admin/clients/{console.market_client}", {"change": "status", "status": "gone"})
    assert page.status_code == 400 and "status must be" in page.text
    page = await olga.form(f"/admin/clients/{console.market_client}", {"change": "explode"})
    assert page.status_code == 400 and "unknown change" in page.text
    page = await olga.form("/admin/departments", {"name": "x" * 41, "title": "T"})
    assert page.status_code == 400
    missing = await olga.http.get("/admin/clients/nobody-here")
    assert missing.status_code == 404


async def test_the_admin_log_page_shows_who_did_what_to_operators_and_auditors(console: Console) -> None:
    olga = await console.signed_in("olga")
    await olga.api("POST", f"/clients/{console.ecology_client}/status", {"status": "disabled"})
    ada = await console.signed_in("ada")
    page = await ada.http.get("/admin/admin-log", params={"target": console.ecology_client})
    assert page.status_code == 200
    assert "client.block" in page.text and "olga" in page.text
    assert "department.register" not in page.text
