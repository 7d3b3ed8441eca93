"""``/graphql`` as an OAuth resource: only live, DPoP-bound hub tokens with a catalogue scope.

RFC 9068 section 4: the resource server "MUST verify that the 'typ' header value is 'at+jwt' or
'application/at+jwt' and reject tokens carrying any other value"; "MUST validate that the 'aud'
claim contains a resource indicator value corresponding to an identifier the resource server
expects for itself"; "MUST check the 'exp' claim".
"""

from __future__ import annotations

import time

import pytest
from joserfc.jwk import ECKey

from hub.client import new_client_key
from hub.oauth import jws
from hub.oauth.resource import ResourceServer
from tests.oauth.conftest import (
    OPERATOR,
    RESOURCE,
    OAuthHub,
    Session,
    claims_of,
    compact,
    es256_with,
    forge,
    hs256_with,
    proof,
    refused,
)


async def test_a_live_token_with_its_proof_reaches_the_graph_as_the_client(
    oauth: OAuthHub, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = []
    original = ResourceServer.__call__

    async def spy(self, request):  # type: ignore[no-untyped-def]
        caller = await original(self, request)
        seen.append(caller)
        return caller

    monkeypatch.setattr(ResourceServer, "__call__", spy)  # the authenticator the graph was composed with
    response = await oauth.graphql(
        session.token,
        session.dpop_key,
        **{"X-Hub-End-User": "clerk-0042", "X-Hub-Purpose": "licence.review", "X-Hub-Case": "TS-2026-000123"},
    )
    assert response.status_code == 200 and response.json() == {"data": {"__typename": "Query"}}
    caller = seen[0]
    assert (caller.client_id, caller.department) == (session.client.client_id, "market")
    assert caller.scopes == {"market.enterprise:read"}
    assert (caller.end_user, caller.purpose, caller.case_number) == (
        "clerk-0042",
        "licence.review",
        "TS-2026-000123",
    )


async def test_no_token_gets_a_dpop_challenge_without_an_error_code(oauth: OAuthHub) -> None:
    """RFC 6750 3.1: if the request lacks any authentication information, the server SHOULD NOT include an
    error code.
    """
    response = await oauth.graphql(None, None)
    assert response.status_code == 401 and response.headers["www-authenticate"] == 'DPoP algs="ES256"'


@pytest.mark.parametrize("header", ["X-Hub-Purpose", "X-Hub-End-User", "X-Hub-Case"])
async def test_malformed_caller_headers_are_refused(oauth: OAuthHub, session: Session, header: str) -> None:
    response = await oauth.graphql(
        session.token, session.dpop_key, **{header: "bad value; DROP TABLE" + "x" * 70}
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


async def test_an_expired_token_is_refused(oauth: OAuthHub, session: Session) -> None:
    """RFC 9068 4: the resource server MUST check the exp claim (RFC 7519 4.1.4)."""
    oauth.server.clock.offset = 301
    try:
        key = session.dpop_key
        public = {k: key[k] for k in ("kty", "crv", "x", "y")}
        late = int(time.time()) + 301
        late_proof = jws.sign(
            {"typ": "dpop+jwt", "jwk": public},
            {**claims_of(proof(key, "POST", RESOURCE, session.token)), "iat": late},
            ECKey.import_key(key),
        )
        response = await oauth.graphql(session.token, None, DPoP=late_proof)
    finally:
        oauth.server.clock.offset = 0
    assert "expired" in refused(response, 401, "invalid_token")


async def test_a_token_accepted_before_is_refused_once_it_has_expired(oauth: OAuthHub, session: Session) -> None:
    """The hub remembers which tokens' signatures verified; every claim is still checked each time."""
    assert (await oauth.graphql(session.token, session.dpop_key)).status_code == 200
    oauth.server.clock.offset = 301
    try:
        key = session.dpop_key
        public = {k: key[k] for k in ("kty", "crv", "x", "y")}
        late_proof = jws.sign(
            {"typ": "dpop+jwt", "jwk": public},
            {**claims_of(proof(key, "POST", RESOURCE, session.token)), "iat": int(time.time()) + 301},
            ECKey.import_key(key),
        )
        response = await oauth.graphql(session.token, None, DPoP=late_proof)
    finally:
        oauth.server.clock.offset = 0
    assert "expired" in refused(response, 401, "invalid_token")


async def test_a_token_not_yet_valid_nbf_is_refused(oauth: OAuthHub, session: Session) -> None:
    forged = await forge(oauth, session.token, nbf=int(time.time()) + 600)
    assert "not yet valid" in refused(await oauth.graphql(forged, session.dpop_key), 401, "invalid_token")


async def test_a_token_for_another_audience_is_refused(oauth: OAuthHub, session: Session) -> None:
    """RFC 9068 4: the resource server MUST validate that the aud claim names an identifier it expects for
    itself.
    """
    forged = await forge(oauth, session.token, aud="https://other-hub.test/graphql")
    assert "aud" in refused(await oauth.graphql(forged, session.dpop_key), 401, "invalid_token")


async def test_an_audience_array_is_refused_even_when_it_names_the_hub(
    oauth: OAuthHub, session: Session
) -> None:
    forged = await forge(oauth, session.token, aud=[RESOURCE, "https://other.test"])
    assert "aud" in refused(await oauth.graphql(forged, session.dpop_key), 401, "invalid_token")


async def test_a_token_from_another_issuer_is_refused(oauth: OAuthHub, session: Session) -> None:
    """RFC 9068 4: the issuer identifier MUST exactly match the value of the iss claim."""
    forged = await forge(oauth, session.token, iss="https://evil.test")
    assert "iss" in refused(await oauth.graphql(forged, session.dpop_key), 401, "invalid_token")


async def test_an_unsigned_alg_none_token_is_refused(oauth: OAuthHub, session: Session) -> None:
    """RFC 9068 4: the resource server MUST reject any JWT in which the value of alg is none."""
    header = {**jws.parts(session.token)[0], "alg": "none"}
    unsigned = compact(header, claims_of(session.token))
    assert "'none'" in refused(await oauth.graphql(unsigned, session.dpop_key), 401, "invalid_token")


async def test_an_hs256_token_keyed_with_the_hubs_public_key_is_refused(
    oauth: OAuthHub, session: Session
) -> None:
    """RFC 8725 2.1 (key confusion): an HMAC keyed with the public key must not verify as the hub's
    signature.
    """
    jwks = (await oauth.http.get("/oauth/jwks")).json()["keys"]
    header = {**jws.parts(session.token)[0], "alg": "HS256"}
    for secret in (ECKey.import_key(jwks[0]).as_pem(private=False), str(jwks[0]).encode()):
        forged = compact(header, claims_of(session.token), hs256_with(secret))
        assert "HS256" in refused(await oauth.graphql(forged, session.dpop_key), 401, "invalid_token")


@pytest.mark.parametrize("alg", ["ES384", "ES512", "RS256", "PS256", "EdDSA", "ES256K"])
async def test_algorithms_off_the_allow_list_are_refused(oauth: OAuthHub, session: Session, alg: str) -> None:
    header, claims = jws.parts(session.token)
    forged = compact({**header, "alg": alg}, claims, lambda data: b"\x00" * 64)
    assert alg in refused(await oauth.graphql(forged, session.dpop_key), 401, "invalid_token")


async def test_an_unknown_kid_is_refused(oauth: OAuthHub, session: Session) -> None:
    attacker = new_client_key()
    forged = jws.sign(
        {"typ": "at+jwt", "kid": attacker["kid"]}, claims_of(session.token), ECKey.import_key(attacker)
    )
    assert "kid" in refused(await oauth.graphql(forged, session.dpop_key), 401, "invalid_token")


async def test_rotation_accepts_the_new_key_and_drops_the_retired_one_once_its_tokens_expired(
    oauth: OAuthHub, session: Session
) -> None:
    parts = oauth.server.parts
    parts.keyring.miss_interval = 0  # the test rotates and asks at once; in service, at most once a second
    await parts.keyring.store.rotate()
    fresh_dpop = new_client_key()
    fresh = await oauth.token(session.client, fresh_dpop)
    assert jws.parts(fresh)[0]["kid"] != jws.parts(session.token)[0]["kid"]
    assert (await oauth.graphql(fresh, fresh_dpop)).status_code == 200
    assert (
        await oauth.graphql(session.token, session.dpop_key)
    ).status_code == 200  # retired, still published
    await parts.keyring.reload()
    parts.keyring.store.retention = -1  # every retired key's tokens have expired
    assert "kid" in refused(await oauth.graphql(session.token, session.dpop_key), 401, "invalid_token")
    assert (await oauth.graphql(fresh, fresh_dpop)).status_code == 200


@pytest.mark.parametrize("typ", [None, "JWT", "dpop+jwt", "client-authentication+jwt"])
async def test_a_token_of_another_type_is_not_an_access_token(
    oauth: OAuthHub, session: Session, typ: str | None
) -> None:
    """RFC 9068 4: the resource server MUST verify that the typ header value is at+jwt and reject tokens
    carrying any other value.
    """
    forged = await forge(oauth, session.token, header={"typ": typ})
    assert "typ" in refused(await oauth.graphql(forged, session.dpop_key), 401, "invalid_token")


async def test_a_client_assertion_is_not_an_access_token(oauth: OAuthHub, session: Session) -> None:
    assertion = oauth.assertion(session.client)
    refused(await oauth.graphql(assertion, session.dpop_key), 401, "invalid_token")


async def test_a_dpop_proof_is_not_an_access_token(oauth: OAuthHub, session: Session) -> None:
    as_token = proof(session.dpop_key, "POST", RESOURCE)
    refused(await oauth.graphql(as_token, session.dpop_key), 401, "invalid_token")


async def test_a_tampered_signature_is_refused(oauth: OAuthHub, session: Session) -> None:
    head, body, signature = session.token.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    assert "signature" in refused(
        await oauth.graphql(f"{head}.{body}.{flipped}", session.dpop_key), 401, "invalid_token"
    )


async def test_tampered_claims_break_the_signature(oauth: OAuthHub, session: Session) -> None:
    head, _, signature = session.token.split(".")
    claims = {**claims_of(session.token), "scope": "market.enterprise:read centre.case:read"}
    body = compact({}, claims).split(".")[1]
    assert "signature" in refused(
        await oauth.graphql(f"{head}.{body}.{signature}", session.dpop_key), 401, "invalid_token"
    )


async def test_an_unknown_crit_header_is_refused(oauth: OAuthHub, session: Session) -> None:
    """RFC 7515 4.1.11: recipients MUST reject the JWS if critical extensions are not understood."""
    kid, key = await oauth.server.parts.keyring.store.active_private()
    header = {
        "alg": "ES256",
        "typ": "at+jwt",
        "kid": kid,
        "crit": ["urn:example:unknown"],
        "urn:example:unknown": 1,
    }
    forged = compact(header, claims_of(session.token), es256_with(key))
    assert "crit" in refused(await oauth.graphql(forged, session.dpop_key), 401, "invalid_token")


async def test_a_revoked_token_is_refused_on_the_next_request(oauth: OAuthHub, session: Session) -> None:
    assert (await oauth.graphql(session.token, session.dpop_key)).status_code == 200
    revoke = await oauth.http.post(
        "/oauth/revoke", data={**oauth.token_form(session.client), "token": session.token}
    )
    assert revoke.status_code == 200
    assert "revoked" in refused(await oauth.graphql(session.token, session.dpop_key), 401, "invalid_token")


async def test_a_disabled_clients_token_is_refused_on_the_next_request(
    oauth: OAuthHub, session: Session
) -> None:
    assert (await oauth.graphql(session.token, session.dpop_key)).status_code == 200
    registry = await oauth.registry()
    await registry.set_status(session.client.client_id, "disabled")
    assert "disabled" in refused(await oauth.graphql(session.token, session.dpop_key), 401, "invalid_token")
    await registry.set_status(session.client.client_id, "active")
    assert "disabled" in refused(await oauth.graphql(session.token, session.dpop_key), 401, "invalid_token")


async def test_a_token_in_the_query_string_is_refused(oauth: OAuthHub, session: Session) -> None:
    response = await oauth.http.post(
        RESOURCE,
        params={"access_token": session.token},
        json={"query": "{ __typename }"},
        headers={"DPoP": proof(session.dpop_key, "POST", RESOURCE, session.token)},
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


async def test_a_token_in_the_body_is_not_read(oauth: OAuthHub, session: Session) -> None:
    response = await oauth.http.post(
        RESOURCE,
        data={"access_token": session.token, "query": "{ __typename }"},
        headers={"DPoP": proof(session.dpop_key, "POST", RESOURCE, session.token)},
    )
    assert response.status_code == 401 and response.headers["www-authenticate"] == 'DPoP algs="ES256"'


async def test_a_dpop_bound_token_sent_as_bearer_is_refused(oauth: OAuthHub, session: Session) -> None:
    """RFC 9449 7.1: a DPoP-bound access token is sent using the DPoP authorization scheme, not Bearer."""
    response = await oauth.graphql(session.token, session.dpop_key, Authorization=f"Bearer {session.token}")
    assert "DPoP-bound" in refused(response, 401, "invalid_token")


async def test_a_token_without_a_catalogue_scope_is_insufficient_scope(
    oauth: OAuthHub, session: Session
) -> None:
    forged = await forge(oauth, session.token, scope="openid profile")
    response = await oauth.graphql(forged, session.dpop_key)
    assert response.status_code == 403 and response.json()["error"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


async def test_a_token_that_outlives_what_the_hub_issues_is_refused(
    oauth: OAuthHub, session: Session
) -> None:
    claims = claims_of(session.token)
    forged = await forge(oauth, session.token, exp=claims["iat"] + 86_400)
    assert "lifetime" in refused(await oauth.graphql(forged, session.dpop_key), 401, "invalid_token")


async def test_a_token_loses_the_scopes_of_a_grant_revoked_since_it_was_issued(
    oauth: OAuthHub, session: Session
) -> None:
    """The token's scopes are narrowed to the client's live grants on every request."""
    assert (await oauth.graphql(session.token, session.dpop_key)).status_code == 200
    service = await oauth.grants()
    for grant in await service.grants(client_id=session.client.client_id):
        await service.revoke(OPERATOR, grant.grant_id, "no longer needed")
    response = await oauth.graphql(session.token, session.dpop_key)
    assert response.status_code == 403 and response.json()["error"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


async def test_disabling_a_department_cuts_off_its_clients_tokens_and_issuance(
    oauth: OAuthHub, session: Session
) -> None:
    assert (await oauth.graphql(session.token, session.dpop_key)).status_code == 200
    registry = await oauth.registry()
    await registry.set_department_status(session.client.department, "disabled")
    assert "disabled" in refused(await oauth.graphql(session.token, session.dpop_key), 401, "invalid_token")
    issuance = await oauth.token_response(oauth.token_form(session.client))
    assert issuance.status_code == 401 and issuance.json()["error"] == "invalid_client"
    await registry.set_department_status(session.client.department, "active")
    # Re-enabled: tokens held before the disable stay dead, new ones work.
    assert "disabled" in refused(await oauth.graphql(session.token, session.dpop_key), 401, "invalid_token")
    oauth.server.clock.offset = 2  # past the cut-off second
    try:
        dpop_key = new_client_key()
        fresh = await oauth.token(session.client, dpop_key)
        assert (await oauth.graphql(fresh, dpop_key)).status_code == 200
    finally:
        oauth.server.clock.offset = 0


async def test_disabling_one_department_leaves_another_departments_clients_alone(
    oauth: OAuthHub, session: Session
) -> None:
    other = await oauth.register("ecology")
    await (await oauth.registry()).set_department_status(other.department, "disabled")
    assert (await oauth.graphql(session.token, session.dpop_key)).status_code == 200
