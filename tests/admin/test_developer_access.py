"""Who may get a GraphiQL token from the console, and for which client (SQLite and PostgreSQL).

Only a developer, only for a client listed on their account, only with the session's CSRF token
from the console's own origin; operators, stewards and auditors act for no client here.
"""

from __future__ import annotations

from typing import Any

import pytest

from hub.client import new_client_key
from tests.admin.conftest import ORIGIN, Console, Person
from tests.admin.developer_helpers import grant, public_of, token_request


@pytest.fixture
async def granted(console: Console) -> Console:
    await grant(console, console.market_client, {"market.enterprise:read"})
    await grant(console, console.ecology_client, {"ecology.discharge_permit:read"})
    return console


async def test_signed_out_the_token_and_schema_routes_answer_401_and_the_pages_lead_to_sign_in(
    granted: Console,
) -> None:
    stranger = granted.person()
    body = {"client_id": granted.market_client, "purpose": "licensing", "jwk": public_of(new_client_key())}
    token = await stranger.http.post("/admin/api/developer/token", json=body)
    assert token.status_code == 401 and token.json()["error"] == "signed_out"
    schema = await stranger.http.get(f"/admin/api/developer/schema?client_id={granted.market_client}&purpose=licensing")
    assert schema.status_code == 401
    for path in ("/admin/developer", f"/admin/developer/graphiql?client_id={granted.market_client}&purpose=licensing",
                 "/admin/developer/assets/graphiql.min.js"):
        page = await stranger.http.get(path)
        assert page.status_code == 303 and page.headers["location"].startswith("/admin/signin")


async def test_a_developer_gets_a_token_for_their_own_client(granted: Console) -> None:
    dev = await granted.signed_in("dev")
    response = await token_request(dev, granted.market_client)
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "DPoP"


async def test_a_developer_cannot_get_a_token_for_a_client_not_listed_on_their_account(granted: Console) -> None:
    other_market = await granted.registry.register_client("market", "another market system", public_of(new_client_key()))
    await grant(granted, other_market.client_id, {"market.enterprise:read"})
    dev = await granted.signed_in("dev")
    for client_id in (granted.ecology_client, other_market.client_id, "market-nosuchclient", ["x"], None):
        response = await token_request(dev, client_id)  # type: ignore[arg-type]
        assert response.status_code == 403, client_id
        assert "clients listed on your account" in response.json()["message"]
        schema = await dev.http.get("/admin/api/developer/schema", params={"client_id": str(client_id),
                                                                           "purpose": "licensing"})
        assert schema.status_code == 403
    page = await dev.http.get("/admin/developer/graphiql",
                              params={"client_id": granted.ecology_client, "purpose": "licensing"})
    assert page.status_code == 403 and "clients listed on your account" in page.text


@pytest.mark.parametrize("username", ["olga", "mei", "eli", "ada"])
async def test_operators_stewards_and_auditors_act_for_no_client_here(granted: Console, username: str) -> None:
    person = await granted.signed_in(username)
    for client_id in (granted.market_client, granted.ecology_client):
        response = await token_request(person, client_id)
        assert response.status_code == 403, response.text
        schema = await person.http.get("/admin/api/developer/schema",
                                       params={"client_id": client_id, "purpose": "licensing"})
        assert schema.status_code == 403
    assert (await person.http.get("/admin/developer")).status_code == 403
    home = await person.http.get("/admin/")
    assert 'href="/admin/developer"' not in home.text


async def test_a_token_request_without_the_csrf_token_or_from_another_origin_is_refused(granted: Console) -> None:
    dev = await granted.signed_in("dev")
    body = {"client_id": granted.market_client, "purpose": "licensing", "jwk": public_of(new_client_key())}
    missing = await dev.http.post("/admin/api/developer/token", json=body)
    assert missing.status_code == 403 and "reload the page" in missing.json()["message"]
    wrong = await dev.http.post("/admin/api/developer/token", json=body, headers={"x-csrf-token": "guessed"})
    assert wrong.status_code == 403
    elsewhere = await dev.http.post("/admin/api/developer/token", json=body, headers={
        "x-csrf-token": await dev.csrf(), "origin": "https://evil.example",
    })
    assert elsewhere.status_code == 403 and "console's own pages" in elsewhere.json()["message"]
    assert await _issued(granted, dev) == []


async def test_a_developer_of_a_blocked_client_gets_no_token(granted: Console) -> None:
    await granted.registry.set_status(granted.market_client, "disabled")
    dev = await granted.signed_in("dev")
    response = await token_request(dev, granted.market_client)
    assert response.status_code == 403 and "blocked" in response.json()["message"]


async def _issued(console: Console, person: Person) -> list[dict[str, Any]]:
    olga = await console.signed_in("olga")
    actions = (await olga.api("GET", "/admin-log", params={"action": "developer.token"})).json()["actions"]
    assert isinstance(actions, list)
    return actions


async def test_each_issuance_is_on_the_admin_log_with_the_developer_client_and_scopes(granted: Console) -> None:
    dev = await granted.signed_in("dev")
    issued = (await token_request(dev, granted.market_client)).json()
    [entry] = await _issued(granted, dev)
    assert (entry["actor"], entry["role"], entry["target"]) == ("dev", "developer", granted.market_client)
    assert entry["details"]["scopes"] == ["market.enterprise:read"]
    assert entry["details"]["purpose"] == "licensing"
    assert entry["details"]["expires_at"] == issued["expires_at"]
    assert ORIGIN not in str(entry["details"]) and issued["access_token"] not in str(entry)
