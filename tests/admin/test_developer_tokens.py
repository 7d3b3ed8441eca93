"""The token a developer's GraphiQL gets: a normal hub access token for the client, with exactly
its live grants, bound to the browser's key, short-lived; and what /graphql does with it."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from hub.accounts.store import Accounts
from hub.app import create_app
from hub.audit.queries import who_accessed
from hub.client import new_client_key
from hub.oauth.rfc7638 import thumbprint
from hub.settings import load_settings, with_overrides
from hub.store.sealing import new_key_encryption_key
from tests.admin.conftest import ORIGIN, PASSWORD, Console, sqlite_url
from tests.admin.developer_helpers import GRAPHQL, grant, grants, graphql, public_of, token_request
from tests.oauth.conftest import OPERATOR, claims_of, proof

BAND = re.compile(r"^(<\d+|\d+-\d+|>=\d+)$")
ENTERPRISES = "{ enterprises(first: 3) { edges { node { uscc name registeredCapital } } } }"


@pytest.fixture
def console_url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path)


@pytest.fixture
async def granted(console: Console) -> Console:
    await grant(console, console.market_client, {"market.enterprise:read"}, ("licensing", "supervision"))
    await grant(console, console.ecology_client, {"ecology.discharge_permit:read"})
    return console


async def test_the_token_carries_exactly_the_clients_live_grants_bound_to_the_browsers_key(granted: Console) -> None:
    await grant(granted, granted.market_client, {"market.food_licence:read"}, ("supervision",))
    dev, key = await granted.signed_in("dev"), new_client_key()
    response = await token_request(dev, granted.market_client, key)
    body = response.json()
    claims = claims_of(body["access_token"])
    assert claims["scope"] == body["scope"] == "market.enterprise:read market.food_licence:read"
    assert claims["sub"] == claims["client_id"] == granted.market_client
    assert claims["aud"] == f"{ORIGIN}/graphql" and claims["iss"] == ORIGIN
    assert body["graphql_url"] == f"{ORIGIN}/graphql"
    assert claims["cnf"] == {"jkt": thumbprint(key)}
    assert await granted.app.state.hub.oauth.live_claims(body["access_token"]) == claims  # the hub's own checks
    assert response.headers["cache-control"] == "no-store"


async def test_proofs_name_the_hubs_graphql_url_even_when_the_resource_identifier_differs(
    demo_data_dir: Path, tmp_path: Path
) -> None:
    settings = load_settings(
        environment="production", issuer=ORIGIN, resource="urn:city:hub", database_url=sqlite_url(tmp_path),
        demo_data_dir=demo_data_dir, single_process=True, key_encryption_key=new_key_encryption_key(),
    )
    app = create_app(settings)
    try:
        await app.state.hub.database.open()
        parts = app.state.hub.oauth.parts
        await parts.registry.add_department("market", "Market Regulation")
        client = await parts.registry.register_client("market", "licensing system", public_of(new_client_key()))
        await Accounts(parts.engine).create("dev", "Dev", "developer", PASSWORD, "market",
                                            frozenset({client.client_id}))
        console = Console(app, Accounts(parts.engine), parts.registry, client.client_id, "")
        await grant(console, client.client_id, {"market.enterprise:read"})
        dev, key = await console.signed_in("dev"), new_client_key()
        body = (await token_request(dev, client.client_id, key)).json()
        assert claims_of(body["access_token"])["aud"] == "urn:city:hub"
        assert body["graphql_url"] == f"{ORIGIN}/graphql"
        answer = await graphql(console, body["access_token"], key, "{ __typename }")
        assert answer.status_code == 200 and answer.json()["data"] == {"__typename": "Query"}
    finally:
        await app.state.hub.aclose()


async def test_the_token_lives_five_minutes_or_the_hubs_shorter_configured_lifetime(granted: Console) -> None:
    dev = await granted.signed_in("dev")
    body = (await token_request(dev, granted.market_client)).json()
    claims = claims_of(body["access_token"])
    assert body["expires_in"] == claims["exp"] - claims["iat"] == 300
    console = console_of(granted)
    for minutes, expected in ((2, 120), (30, 300)):
        console.settings = with_overrides(console.settings, access_token_minutes=minutes)
        claims = claims_of((await token_request(dev, granted.market_client)).json()["access_token"])
        assert claims["exp"] - claims["iat"] == expected


async def test_graphiql_requests_with_the_token_and_a_proof_see_the_clients_data_masked_by_policy(
    granted: Console,
) -> None:
    dev, key = await granted.signed_in("dev"), new_client_key()
    token = (await token_request(dev, granted.market_client, key)).json()["access_token"]
    answer = (await graphql(granted, token, key, ENTERPRISES)).json()
    nodes = [edge["node"] for edge in answer["data"]["enterprises"]["edges"]]
    assert nodes and all(n["uscc"][2:6] == "1302" for n in nodes)  # the market department's jurisdiction
    assert all(BAND.match(n["registeredCapital"]) for n in nodes), nodes  # a band, not the amount


async def test_each_graphiql_request_is_on_the_disclosure_record_as_the_clients_for_the_developer(
    granted: Console,
) -> None:
    dev, key = await granted.signed_in("dev"), new_client_key()
    token = (await token_request(dev, granted.market_client, key, "supervision")).json()["access_token"]
    http = granted.person().http
    answer = await http.post("/graphql", json={"query": ENTERPRISES}, headers={
        "authorization": f"DPoP {token}", "dpop": proof(key, "POST", GRAPHQL, token),
        "x-hub-purpose": "supervision", "x-hub-end-user": "dev",
    })
    uscc = answer.json()["data"]["enterprises"]["edges"][0]["node"]["uscc"]
    store = granted.app.state.hub.disclosures.store
    [record] = await who_accessed(store, uscc)
    assert (record.client_id, record.end_user, record.purpose) == (granted.market_client, "dev", "supervision")
    assert record.fields["Enterprise.registered_capital"] == "mask"


async def test_the_token_is_refused_as_bearer_with_another_key_or_once_expired(granted: Console) -> None:
    dev, key = await granted.signed_in("dev"), new_client_key()
    token = (await token_request(dev, granted.market_client, key)).json()["access_token"]
    http = granted.person().http
    bearer = await http.post("/graphql", json={"query": "{ __typename }"}, headers={"authorization": f"Bearer {token}"})
    assert bearer.status_code == 401
    stolen = await graphql(granted, token, new_client_key(), "{ __typename }")
    assert stolen.status_code == 401 and "cnf.jkt" in stolen.json()["error_description"]
    granted.app.state.hub.oauth.clock.offset = 301
    try:
        expired = await graphql(granted, token, key, "{ __typename }")
    finally:
        granted.app.state.hub.oauth.clock.offset = 0
    assert expired.status_code == 401 and "expired" in expired.json()["error_description"]


async def test_a_revoked_grant_is_gone_on_the_next_graphiql_request(granted: Console) -> None:
    food = await grant(granted, granted.market_client, {"market.food_licence:read"})
    dev, key = await granted.signed_in("dev"), new_client_key()
    token = (await token_request(dev, granted.market_client, key)).json()["access_token"]
    query = "{ licences(first: 1, kind: FOOD_BUSINESS) { edges { node { number } } } }"
    before = (await graphql(granted, token, key, query)).json()
    assert "errors" not in before, before
    await (await grants(granted)).revoke(OPERATOR, food.grant_id, "no longer needed")
    after = (await graphql(granted, token, key, query)).json()
    assert after.get("data") is None and "errors" in after, after
    schema = await dev.http.get("/admin/api/developer/schema",
                                params={"client_id": granted.market_client, "purpose": "licensing"})
    assert "FoodBusinessLicence" not in _type_names(schema.json())
    scopes = claims_of((await token_request(dev, granted.market_client)).json()["access_token"])["scope"]
    assert scopes == "market.enterprise:read"


def console_of(console: Console) -> Any:
    """The console's own state (its settings are the hub's, read when the app was built)."""
    mount = next(r for r in console.app.routes if getattr(r, "path", "") == "/admin")
    return mount.app.console  # type: ignore[attr-defined]


def _type_names(introspection: dict[str, Any]) -> set[str]:
    return {t["name"] for t in introspection["introspection"]["__schema"]["types"]}


async def test_the_schema_shows_only_the_types_the_clients_grants_reach(granted: Console) -> None:
    dev = await granted.signed_in("dev")
    schema = await dev.http.get("/admin/api/developer/schema",
                                params={"client_id": granted.market_client, "purpose": "licensing"})
    names = _type_names(schema.json())
    assert schema.json()["scopes"] == ["market.enterprise:read"]
    assert "Enterprise" in names
    assert not names & {"PollutantDischargePermit", "TaxRegistration", "FoodBusinessLicence", "Case", "Person"}


@pytest.mark.parametrize(("change", "message"), [
    ({"purpose": None}, "choose a purpose"),
    ({"purpose": "Licensing!"}, "choose a purpose"),
    ({"purpose": "x" * 65}, "choose a purpose"),
    ({"purpose": "tax_administration"}, "name the purposes licensing, supervision, not 'tax_administration'"),
    ({"jwk": None}, "DPoP key: a JWK must be a JSON object"),
    ({"jwk": "key"}, "DPoP key: a JWK must be a JSON object"),
    ({"jwk": new_client_key()}, "private members (d)"),
    ({"jwk": {**public_of(new_client_key()), "crv": "P-384"}}, "only EC P-256 keys"),
    ({"jwk": {**public_of(new_client_key()), "x": "AAAA"}}, "32-byte base64url coordinate"),
    ({"jwk": {**public_of(new_client_key()), "y": base64.urlsafe_b64encode(b"\x01" * 32).rstrip(b"=").decode()}},
     "not on the P-256 curve"),
])
async def test_a_token_request_with_bad_input_is_refused_with_the_reason(
    granted: Console, change: dict[str, Any], message: str
) -> None:
    dev = await granted.signed_in("dev")
    body = {"client_id": granted.market_client, "purpose": "licensing", "jwk": public_of(new_client_key()), **change}
    response = await dev.api("POST", "/developer/token", body)
    assert response.status_code == 400 and message in response.json()["message"], response.text


async def test_a_token_request_body_that_is_not_a_json_object_is_refused(granted: Console) -> None:
    dev = await granted.signed_in("dev")
    for content in (b"not json", b"[1, 2]", json.dumps("text").encode()):
        response = await dev.http.post("/admin/api/developer/token", content=content, headers={
            "x-csrf-token": await dev.csrf(), "content-type": "application/json",
        })
        assert response.status_code == 400 and "JSON object" in response.json()["message"]


async def test_a_client_without_a_live_grant_gets_no_token(console: Console) -> None:
    dev = await console.signed_in("dev")
    response = await token_request(dev, console.market_client)
    assert response.status_code == 400 and "name the purposes none" in response.json()["message"]
    page = await dev.http.get("/admin/developer")
    assert "holds no live grant yet" in page.text


async def test_the_developer_page_lists_their_clients_with_scopes_and_purposes_to_open_graphiql(
    granted: Console,
) -> None:
    dev = await granted.signed_in("dev")
    page = await dev.http.get("/admin/developer")
    assert page.status_code == 200
    assert granted.market_client in page.text and granted.ecology_client not in page.text
    assert '<option value="licensing">' in page.text and '<option value="supervision">' in page.text
    assert 'href="/admin/developer"' in page.text  # in the navigation bar
    sandbox = await dev.http.get("/admin/developer/graphiql",
                                 params={"client_id": granted.market_client, "purpose": "supervision"})
    assert sandbox.status_code == 200
    assert f'data-client="{granted.market_client}"' in sandbox.text and 'data-purpose="supervision"' in sandbox.text
    assert "/admin/static/developer-graphiql.js" in sandbox.text and "<script>" not in sandbox.text
    refused = await dev.http.get("/admin/developer/graphiql",
                                 params={"client_id": granted.market_client, "purpose": "tax_administration"})
    assert refused.status_code == 400 and "not &#39;tax_administration&#39;" in refused.text


async def test_graphiql_files_are_served_to_developers_by_name_only(granted: Console, tmp_path: Path) -> None:
    assets = tmp_path / "graphiql"
    assets.mkdir()
    (assets / "graphiql.min.js").write_text("/* graphiql */")
    (tmp_path / "secret.txt").write_text("not a graphiql file")
    console = console_of(granted)
    console.settings = with_overrides(console.settings, graphiql_assets_dir=assets)
    dev = await granted.signed_in("dev")
    served = await dev.http.get("/admin/developer/assets/graphiql.min.js")
    assert served.status_code == 200 and served.text == "/* graphiql */"
    for name in ("react.production.min.js", "..%2Fsecret.txt", "secret.txt"):
        assert (await dev.http.get(f"/admin/developer/assets/{name}")).status_code == 404, name
    olga = await granted.signed_in("olga")
    assert (await olga.http.get("/admin/developer/assets/graphiql.min.js")).status_code == 403
