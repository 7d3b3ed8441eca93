"""One test per check, each built so that it fails if that check alone is removed.

Every refusal here is paired with what makes it bite: a validly signed assertion, proof or token
that differs from an accepted one only in what the check is about.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from joserfc.jwk import ECKey

from hub.client import new_client_key
from hub.oauth import jws
from tests.oauth.conftest import (
    RESOURCE,
    TOKEN_URL,
    OAuthHub,
    Registered,
    Session,
    compact,
    es256_with,
    forge,
    proof,
    refused,
)


def _client_refused(response: Any) -> str:
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client", response.text
    return str(response.json()["error_description"])


# W1
async def test_an_assertion_naming_the_clients_own_kid_but_signed_by_another_key_is_refused(
    oauth: OAuthHub,
) -> None:
    client = await oauth.register()
    forger = Registered(client.client_id, new_client_key(), client.department)
    forged = oauth.assertion(forger, header={"kid": client.key["kid"]})
    assert "signature" in _client_refused(await oauth.token_response(oauth.token_form(client, forged)))
    assert (await oauth.token_response(oauth.token_form(client))).status_code == 200  # the control


# W2
async def test_a_proof_carrying_the_victims_public_jwk_but_signed_by_another_key_is_refused(
    oauth: OAuthHub, session: Session
) -> None:
    victim = {k: session.dpop_key[k] for k in ("kty", "crv", "x", "y")}
    attacker = ECKey.import_key(new_client_key())
    genuine_claims = jws.parts(proof(session.dpop_key, "POST", RESOURCE, session.token))[1]
    forged = compact({"typ": "dpop+jwt", "alg": "ES256", "jwk": victim}, genuine_claims, es256_with(attacker))
    response = await oauth.graphql(session.token, None, DPoP=forged)
    assert "signature" in refused(response, 401, "invalid_dpop_proof")


# W3
async def test_an_assertion_not_yet_valid_nbf_in_the_future_is_refused(oauth: OAuthHub) -> None:
    client = await oauth.register()
    early = oauth.assertion(client, nbf=int(time.time()) + 120)
    assert "nbf" in _client_refused(await oauth.token_response(oauth.token_form(client, early)))


# W4
@pytest.mark.parametrize("jti", [None, "short", 12345678901, ["a" * 16]], ids=["missing", "short", "int", "list"])
async def test_an_assertion_without_a_proper_jti_is_refused(oauth: OAuthHub, jti: Any) -> None:
    client = await oauth.register()
    assertion = oauth.assertion(client, jti=jti)
    assert "jti must be a string of 8-128" in _client_refused(
        await oauth.token_response(oauth.token_form(client, assertion))
    )


@pytest.mark.parametrize("jti", [None, "short", 12345678901], ids=["missing", "short", "int"])
async def test_a_proof_without_a_proper_jti_is_refused(oauth: OAuthHub, session: Session, jti: Any) -> None:
    wrong = proof(session.dpop_key, "POST", RESOURCE, session.token)
    header, claims = jws.parts(wrong)
    claims = {k: v for k, v in {**claims, "jti": jti}.items() if v is not None}
    wrong = jws.sign({"typ": "dpop+jwt", "jwk": header["jwk"]}, claims, ECKey.import_key(session.dpop_key))
    response = await oauth.graphql(session.token, None, DPoP=wrong)
    assert "jti must be a string of 8-128" in refused(response, 401, "invalid_dpop_proof")


# W5
async def test_a_client_id_parameter_other_than_the_assertions_subject_is_refused(oauth: OAuthHub) -> None:
    client, other = await oauth.register(), await oauth.register()
    form = oauth.token_form(client, client_id=other.client_id)
    assert "client_id" in _client_refused(await oauth.token_response(form))
    same = oauth.token_form(client, client_id=client.client_id)
    assert (await oauth.token_response(same)).status_code == 200  # the control


# W6
@pytest.mark.parametrize("claim", ["iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope", "cnf"])
async def test_an_access_token_missing_a_required_claim_is_refused(
    oauth: OAuthHub, session: Session, claim: str
) -> None:
    forged = await _without(oauth, session.token, claim)
    assert "missing" in refused(await oauth.graphql(forged, session.dpop_key), 401, "invalid_token")


async def _without(oauth: OAuthHub, token: str, claim: str) -> str:
    kid, key = await oauth.server.parts.keyring.store.active_private()
    claims = {k: v for k, v in jws.parts(token)[1].items() if k != claim}
    return jws.sign({"typ": "at+jwt", "kid": kid}, claims, key)


@pytest.mark.parametrize("cnf", ["jkt", ["jkt"], 1], ids=["str", "list", "int"])
async def test_an_access_token_whose_cnf_is_not_an_object_is_refused(
    oauth: OAuthHub, session: Session, cnf: Any
) -> None:
    forged = await forge(oauth, session.token, cnf=cnf)
    assert "cnf" in refused(await oauth.graphql(forged, session.dpop_key), 401, "invalid_token")


async def test_an_access_token_issued_in_the_future_is_refused(oauth: OAuthHub, session: Session) -> None:
    iat = int(time.time()) + 120
    forged = await forge(oauth, session.token, iat=iat, exp=iat + 300, nbf=int(time.time()))  # nbf valid
    assert "future" in refused(await oauth.graphql(forged, session.dpop_key), 401, "invalid_token")


# W7
@pytest.mark.parametrize("age", [30, -90])
async def test_a_proof_dated_outside_the_window_is_refused(oauth: OAuthHub, session: Session, age: int) -> None:
    wrong = proof(session.dpop_key, "POST", RESOURCE, session.token, iat=int(time.time()) + age)
    assert "iat" in refused(await oauth.graphql(session.token, None, DPoP=wrong), 401, "invalid_dpop_proof")


@pytest.mark.parametrize("age", [4, -55])
async def test_a_proof_dated_inside_the_window_is_accepted(oauth: OAuthHub, session: Session, age: int) -> None:
    oauth.server.clock.offset = 60  # the hub has run a minute: a proof 55 s old is younger than its replay cache
    within = proof(session.dpop_key, "POST", RESOURCE, session.token, iat=oauth.server.clock.now() + age)
    assert (await oauth.graphql(session.token, None, DPoP=within)).status_code == 200


# W8
async def test_two_authorization_headers_are_an_invalid_request(oauth: OAuthHub, session: Session) -> None:
    response = await oauth.http.post(
        RESOURCE,
        json={"query": "{ __typename }"},
        headers=[
            ("Authorization", f"DPoP {session.token}"),
            ("Authorization", f"DPoP {session.token}"),
            ("DPoP", proof(session.dpop_key, "POST", RESOURCE, session.token)),
        ],
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


# W9
async def test_a_validly_signed_assertion_typed_as_an_access_token_is_refused_for_its_typ(
    oauth: OAuthHub,
) -> None:
    client = await oauth.register()
    typed = oauth.assertion(client, header={"typ": "at+jwt"})
    assert "typ" in _client_refused(await oauth.token_response(oauth.token_form(client, typed)))


# W12
@pytest.mark.parametrize(
    "htu",
    ["http://hub.test/graphql", "https://HUB.test/graphql", "https://hub.test:443/graphql", f"{RESOURCE}/"],
    ids=["scheme", "host case", "port", "trailing slash"],
)
async def test_a_proof_for_a_variant_of_the_uri_is_refused(oauth: OAuthHub, session: Session, htu: str) -> None:
    wrong = proof(session.dpop_key, "POST", htu, session.token)
    assert "htu" in refused(await oauth.graphql(session.token, None, DPoP=wrong), 401, "invalid_dpop_proof")


async def test_a_proof_for_the_token_endpoint_is_accepted_there(oauth: OAuthHub) -> None:
    client = await oauth.register()
    response = await oauth.http.post(
        TOKEN_URL, data=oauth.token_form(client), headers={"DPoP": proof(new_client_key(), "POST", TOKEN_URL)}
    )
    assert response.status_code == 200
