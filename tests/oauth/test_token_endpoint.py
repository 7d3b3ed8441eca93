"""The token endpoint: client_credentials with private_key_jwt and DPoP, and each way it says no.

RFC 6749 5.2: a failed client authentication is ``invalid_client`` (401). RFC 7523 3: the JWT
"MUST contain an 'aud' (audience) claim", "MUST contain an 'exp' (expiration time) claim", and
the server "MAY ensure that JWTs are not replayed by maintaining the set of used 'jti' values".
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from joserfc.jwk import ECKey

from hub.client import new_client_key
from hub.oauth import jws
from hub.oauth.rfc7638 import thumbprint
from tests.oauth.conftest import (
    ISSUER,
    RESOURCE,
    SCOPE,
    TOKEN_URL,
    OAuthHub,
    Registered,
    claims_of,
    compact,
    hs256_with,
    proof,
)


def assert_refused(response: httpx.Response, status: int, error: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["error"] == error, response.text
    return str(response.json()["error_description"])


async def test_a_client_gets_a_dpop_bound_rfc9068_token(oauth: OAuthHub) -> None:
    client = await oauth.register()
    dpop_key = new_client_key()
    response = await oauth.token_response(oauth.token_form(client), dpop_key)
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "DPoP" and body["scope"] == SCOPE and body["expires_in"] == 300
    header, claims = jws.parts(body["access_token"])
    assert header["typ"] == "at+jwt" and header["alg"] == "ES256"
    jwks = (await oauth.http.get("/oauth/jwks")).json()["keys"]
    assert header["kid"] in {thumbprint(k) for k in jwks}
    assert claims["iss"] == ISSUER and claims["aud"] == RESOURCE and claims["sub"] == client.client_id
    assert claims["client_id"] == client.client_id and claims["scope"] == SCOPE
    assert claims["cnf"] == {"jkt": thumbprint(dpop_key)} and claims["exp"] - claims["iat"] == 300
    assert len(claims["jti"]) >= 16


async def test_without_client_authentication_the_answer_is_invalid_client(oauth: OAuthHub) -> None:
    form = {"grant_type": "client_credentials", "scope": SCOPE, "resource": RESOURCE}
    assert_refused(await oauth.token_response(form), 401, "invalid_client")


async def test_a_client_secret_is_not_a_way_to_authenticate(oauth: OAuthHub) -> None:
    client = await oauth.register()
    form = {"grant_type": "client_credentials", "client_id": client.client_id, "client_secret": "s3cret"}
    assert "private_key_jwt only" in assert_refused(await oauth.token_response(form), 401, "invalid_client")
    basic = await oauth.http.post(
        TOKEN_URL,
        data=oauth.token_form(client),
        headers={
            "Authorization": "Basic bWFya2V0OnNlY3JldA==",
            "DPoP": proof(new_client_key(), "POST", TOKEN_URL),
        },
    )
    assert_refused(basic, 401, "invalid_client")


async def test_an_unsigned_assertion_alg_none_is_refused(oauth: OAuthHub) -> None:
    """RFC 8725 3.1: libraries MUST enable the caller to specify a supported set of algorithms and MUST NOT
    use any other.
    """
    client = await oauth.register()
    good = claims_of(oauth.assertion(client))
    unsigned = compact({"alg": "none", "kid": client.key["kid"]}, good)
    form = oauth.token_form(client, unsigned)
    assert "alg 'none'" in assert_refused(await oauth.token_response(form), 401, "invalid_client")


async def test_an_hs256_assertion_keyed_with_the_clients_public_key_is_refused(oauth: OAuthHub) -> None:
    """RFC 8725 2.1: an attacker signs with HMAC keyed by a known public key; only ES256 is accepted."""
    client = await oauth.register()
    public = {k: client.key[k] for k in ("kty", "crv", "x", "y", "kid")}
    secret = ECKey.import_key(public).as_pem(private=False)
    forged = compact(
        {"alg": "HS256", "kid": client.key["kid"]}, claims_of(oauth.assertion(client)), hs256_with(secret)
    )
    assert "HS256" in assert_refused(
        await oauth.token_response(oauth.token_form(client, forged)), 401, "invalid_client"
    )


async def test_an_unknown_kid_is_refused(oauth: OAuthHub) -> None:
    client = await oauth.register()
    assertion = oauth.assertion(client, header={"kid": "not-a-registered-key"})
    assert "kid" in assert_refused(
        await oauth.token_response(oauth.token_form(client, assertion)), 401, "invalid_client"
    )


async def test_an_assertion_signed_with_another_clients_key_is_refused(oauth: OAuthHub) -> None:
    client, other = await oauth.register(), await oauth.register()
    impostor = Registered(client.client_id, other.key, "market")
    form = oauth.token_form(client, oauth.assertion(impostor))
    assert_refused(await oauth.token_response(form), 401, "invalid_client")


@pytest.mark.parametrize("injected", ["jwk", "jku", "x5u"])
async def test_keys_injected_in_the_assertion_header_are_refused(oauth: OAuthHub, injected: str) -> None:
    client = await oauth.register()
    attacker = new_client_key()
    value: Any = (
        {k: attacker[k] for k in ("kty", "crv", "x", "y")} if injected == "jwk" else "https://evil.test/k"
    )
    assertion = jws.sign(
        {"kid": client.key["kid"], injected: value},
        claims_of(oauth.assertion(client)),
        ECKey.import_key(attacker),
    )
    description = assert_refused(
        await oauth.token_response(oauth.token_form(client, assertion)), 401, "invalid_client"
    )
    assert injected in description


@pytest.mark.parametrize("audience", ["https://elsewhere.test", [ISSUER], TOKEN_URL])
async def test_the_audience_must_be_the_issuer_as_a_string(oauth: OAuthHub, audience: Any) -> None:
    """FAPI 2.0 5.3.2.1: the AS shall only accept its issuer identifier value (as a string) as the audience.
    """
    client = await oauth.register()
    form = oauth.token_form(client, oauth.assertion(client, aud=audience))
    assert "aud must be the issuer" in assert_refused(await oauth.token_response(form), 401, "invalid_client")


async def test_iss_must_equal_sub(oauth: OAuthHub) -> None:
    """RFC 7523 3 (client authentication): for client authentication, the subject MUST be the client_id."""
    client = await oauth.register()
    form = oauth.token_form(client, oauth.assertion(client, iss="someone-else"))
    assert "iss and sub" in assert_refused(await oauth.token_response(form), 401, "invalid_client")


@pytest.mark.parametrize(("exp", "why"), [(-10, "past"), (3600, "at most"), (None, "missing")])
async def test_exp_must_be_present_near_and_not_past(oauth: OAuthHub, exp: int | None, why: str) -> None:
    client = await oauth.register()
    claims: dict[str, Any] = {"exp": None if exp is None else int(time.time()) + exp}
    if exp is None:
        claims["exp"] = None
    form = oauth.token_form(client, oauth.assertion(client, **claims))
    assert why in assert_refused(await oauth.token_response(form), 401, "invalid_client")


async def test_iat_far_in_the_future_is_refused(oauth: OAuthHub) -> None:
    client = await oauth.register()
    form = oauth.token_form(client, oauth.assertion(client, iat=int(time.time()) + 3600))
    assert "future" in assert_refused(await oauth.token_response(form), 401, "invalid_client")


async def test_a_replayed_jti_is_refused(oauth: OAuthHub) -> None:
    """RFC 7523 3 item 7: the server "MAY ensure that JWTs are not replayed by maintaining the set of used
    'jti' values".
    """
    client = await oauth.register()
    assertion = oauth.assertion(client)
    assert (await oauth.token_response(oauth.token_form(client, assertion))).status_code == 200
    again = await oauth.token_response(oauth.token_form(client, assertion))
    assert "already used" in assert_refused(again, 401, "invalid_client")


async def test_an_access_token_is_not_a_client_assertion(oauth: OAuthHub) -> None:
    client = await oauth.register()
    token = await oauth.token(client, new_client_key())
    assert_refused(await oauth.token_response(oauth.token_form(client, token)), 401, "invalid_client")


async def test_a_dpop_proof_is_not_a_client_assertion(oauth: OAuthHub) -> None:
    client = await oauth.register()
    as_proof = proof(
        client.key,
        "POST",
        TOKEN_URL,
        iss=client.client_id,
        sub=client.client_id,
        aud=ISSUER,
        exp=int(time.time()) + 60,
        header={"kid": client.key["kid"]},
    )
    assert_refused(await oauth.token_response(oauth.token_form(client, as_proof)), 401, "invalid_client")
    typed = oauth.assertion(client, header={"typ": "dpop+jwt"})
    assert "typ" in assert_refused(
        await oauth.token_response(oauth.token_form(client, typed)), 401, "invalid_client"
    )


@pytest.mark.parametrize(
    "grant",
    ["authorization_code", "password", "refresh_token", "urn:ietf:params:oauth:grant-type:jwt-bearer"],
)
async def test_other_grant_types_are_unsupported(oauth: OAuthHub, grant: str) -> None:
    """RFC 6749 5.2 unsupported_grant_type: the grant type is not supported by the authorization server."""
    client = await oauth.register()
    assert_refused(
        await oauth.token_response(oauth.token_form(client, grant_type=grant)), 400, "unsupported_grant_type"
    )


async def test_asking_for_a_scope_not_allowed_is_invalid_scope(oauth: OAuthHub) -> None:
    """RFC 6749 5.2 invalid_scope: "The requested scope is invalid, unknown, malformed, or exceeds the scope
    granted".
    """
    client = await oauth.register()
    form = oauth.token_form(client, scope=f"{SCOPE} housing.construction_permit:read")
    assert "housing.construction_permit:read" in assert_refused(
        await oauth.token_response(form), 400, "invalid_scope"
    )


@pytest.mark.parametrize(
    "resource", [["https://other.test/graphql"], [RESOURCE, "https://other.test/graphql"]]
)
async def test_unlisted_or_several_resources_are_invalid_target(oauth: OAuthHub, resource: list[str]) -> None:
    """RFC 8707 2: the AS SHOULD use the invalid_target error when the requested resource is invalid or
    unknown.
    """
    client = await oauth.register()
    form = [(k, v) for k, v in oauth.token_form(client, resource=None).items()] + [
        ("resource", r) for r in resource
    ]
    response = await oauth.http.post(
        TOKEN_URL,
        content=httpx.QueryParams(form).__str__(),
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "DPoP": proof(new_client_key(), "POST", TOKEN_URL),
        },
    )
    assert_refused(response, 400, "invalid_target")


async def test_a_disabled_client_gets_no_token(oauth: OAuthHub) -> None:
    client = await oauth.register()
    await (await oauth.registry()).set_status(client.client_id, "disabled")
    assert "disabled" in assert_refused(
        await oauth.token_response(oauth.token_form(client)), 401, "invalid_client"
    )


async def test_credentials_in_the_query_string_are_refused(oauth: OAuthHub) -> None:
    """RFC 6749 2.3.1: the parameters can only be transmitted in the request-body and MUST NOT be included in
    the request URI.
    """
    client = await oauth.register()
    response = await oauth.http.post(
        TOKEN_URL,
        params=oauth.token_form(client),
        headers={"DPoP": proof(new_client_key(), "POST", TOKEN_URL)},
    )
    assert "query string" in assert_refused(response, 400, "invalid_request")


async def test_get_is_not_a_token_request(oauth: OAuthHub) -> None:
    client = await oauth.register()
    response = await oauth.http.get(TOKEN_URL, params=oauth.token_form(client))
    assert_refused(response, 400, "invalid_request")


async def test_a_token_request_needs_a_dpop_proof(oauth: OAuthHub) -> None:
    client = await oauth.register()
    response = await oauth.http.post(TOKEN_URL, data=oauth.token_form(client))
    assert_refused(response, 400, "invalid_dpop_proof")


async def test_every_token_endpoint_answer_says_no_store(oauth: OAuthHub) -> None:
    """RFC 6749 5.1: the server MUST include "Cache-Control" with a value of "no-store" in any response
    containing tokens.
    """
    client = await oauth.register()
    answers = [
        await oauth.token_response(oauth.token_form(client)),
        await oauth.token_response({"grant_type": "client_credentials"}),
        await oauth.http.get(TOKEN_URL),
        await oauth.http.post(TOKEN_URL, data={"grant_type": "password"}),
    ]
    assert [a.headers.get("cache-control") for a in answers] == ["no-store"] * 4
    assert answers[0].status_code == 200 and {a.status_code for a in answers[1:]} <= {400, 401}


async def test_a_request_failing_client_authentication_does_not_spend_the_dpop_proof(
    oauth: OAuthHub,
) -> None:
    """Otherwise anyone who sees a client's proof could burn it with a bogus assertion."""
    client = await oauth.register()
    dpop = proof(new_client_key(), "POST", TOKEN_URL)
    bogus = {**oauth.token_form(client), "client_assertion": "x.y.z"}
    first = await oauth.http.post(TOKEN_URL, data=bogus, headers={"DPoP": dpop})
    assert first.status_code == 401 and first.json()["error"] == "invalid_client"
    second = await oauth.http.post(TOKEN_URL, data=oauth.token_form(client), headers={"DPoP": dpop})
    assert second.status_code == 200, second.text
    third = await oauth.http.post(TOKEN_URL, data=oauth.token_form(client), headers={"DPoP": dpop})
    assert third.status_code == 400 and "already used" in third.json()["error_description"]


async def test_an_unknown_client_id_and_a_known_one_with_a_wrong_key_get_the_same_description(
    oauth: OAuthHub,
) -> None:
    """The token endpoint does not tell which client ids exist."""
    client = await oauth.register()
    stranger = new_client_key()
    descriptions = set()
    for client_id, kid in (
        (client.client_id, client.key["kid"]),  # known client, its kid, another key's signature
        (client.client_id, stranger["kid"]),  # known client, a kid it does not have
        ("market-0000000000000000", stranger["kid"]),  # no such client
    ):
        impostor = Registered(client_id, stranger, "market")
        assertion = oauth.assertion(impostor, header={"kid": kid})
        response = await oauth.token_response(oauth.token_form(client, assertion))
        descriptions.add(assert_refused(response, 401, "invalid_client"))
    assert len(descriptions) == 1, descriptions
