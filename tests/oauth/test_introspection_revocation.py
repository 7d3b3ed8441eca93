"""RFC 7662 introspection and RFC 7009 revocation: both only for an authenticated client.

RFC 7662 2.2: if the token "is not active, does not exist on this server, or the protected
resource is not allowed to introspect this particular token, then the authorization server MUST
return an introspection response with the 'active' field set to false"; "the authorization
server SHOULD NOT include any additional information about an inactive token".
"""

from __future__ import annotations

from hub.client import new_client_key
from tests.oauth.conftest import OAuthHub, Session, claims_of, forge


async def introspect(oauth: OAuthHub, session: Session, token: str) -> dict[str, object]:
    response = await oauth.http.post(
        "/oauth/introspect", data={**oauth.token_form(session.client), "token": token}
    )
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store", response.text
    return response.json()  # type: ignore[no-any-return]


async def test_an_active_token_is_described_to_its_client(oauth: OAuthHub, session: Session) -> None:
    answer = await introspect(oauth, session, session.token)
    claims = claims_of(session.token)
    assert answer["active"] is True and answer["client_id"] == session.client.client_id
    assert (
        answer["scope"] == claims["scope"]
        and answer["exp"] == claims["exp"]
        and answer["token_type"] == "DPoP"
    )
    assert answer["cnf"] == claims["cnf"]


async def test_introspection_needs_client_authentication(oauth: OAuthHub, session: Session) -> None:
    response = await oauth.http.post("/oauth/introspect", data={"token": session.token})
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


async def test_revocation_needs_client_authentication(oauth: OAuthHub, session: Session) -> None:
    response = await oauth.http.post("/oauth/revoke", data={"token": session.token})
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    assert (await introspect(oauth, session, session.token))["active"] is True


async def test_a_revoked_token_is_exactly_inactive(oauth: OAuthHub, session: Session) -> None:
    revoke = await oauth.http.post(
        "/oauth/revoke", data={**oauth.token_form(session.client), "token": session.token}
    )
    assert revoke.status_code == 200 and revoke.headers["cache-control"] == "no-store"
    assert await introspect(oauth, session, session.token) == {"active": False}


async def test_an_expired_token_is_exactly_inactive(oauth: OAuthHub, session: Session) -> None:
    expired = await forge(
        oauth,
        session.token,
        iat=claims_of(session.token)["iat"] - 600,
        exp=claims_of(session.token)["iat"] - 300,
    )
    assert await introspect(oauth, session, expired) == {"active": False}


async def test_an_unknown_token_is_exactly_inactive(oauth: OAuthHub, session: Session) -> None:
    assert await introspect(oauth, session, "not.a.token") == {"active": False}
    assert await introspect(oauth, session, "garbage") == {"active": False}


async def test_another_clients_token_is_inactive_to_this_client(oauth: OAuthHub, session: Session) -> None:
    other = await oauth.register()
    other_token = await oauth.token(other, new_client_key())
    assert await introspect(oauth, session, other_token) == {"active": False}


async def test_revocation_by_another_client_leaves_the_token_active(
    oauth: OAuthHub, session: Session
) -> None:
    """RFC 7009 2.1: the server verifies "whether the token was issued to the client making the revocation
    request".
    """
    other = await oauth.register()
    response = await oauth.http.post(
        "/oauth/revoke", data={**oauth.token_form(other), "token": session.token}
    )
    assert response.status_code == 200
    assert (await introspect(oauth, session, session.token))["active"] is True
    assert (await oauth.graphql(session.token, session.dpop_key)).status_code == 200


async def test_revoking_an_unknown_token_answers_200(oauth: OAuthHub, session: Session) -> None:
    """RFC 7009 2.2: "invalid tokens do not cause an error response"."""
    response = await oauth.http.post(
        "/oauth/revoke", data={**oauth.token_form(session.client), "token": "x.y.z"}
    )
    assert response.status_code == 200 and response.json() == {}


async def test_introspection_reports_the_scopes_the_clients_grants_hold_now(oauth: OAuthHub) -> None:
    from tests.oauth.conftest import OPERATOR, SCOPE

    other = "taxation.tax_registration:read"
    client = await oauth.register()
    (taxation,) = await oauth.grant(client.client_id, frozenset({other}))
    dpop_key = new_client_key()
    issued = await oauth.token_response(oauth.token_form(client, scope=f"{SCOPE} {other}"), dpop_key)
    session = Session(client, dpop_key, issued.json()["access_token"])
    assert set(str((await introspect(oauth, session, session.token))["scope"]).split()) == {SCOPE, other}
    await (await oauth.grants()).revoke(OPERATOR, taxation.grant_id, "no longer needed for licensing")
    answer = await introspect(oauth, session, session.token)
    assert answer["active"] is True and answer["scope"] == SCOPE
    assert set(str(claims_of(session.token)["scope"]).split()) == {SCOPE, other}  # the token is unchanged
