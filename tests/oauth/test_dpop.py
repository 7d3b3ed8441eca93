"""RFC 9449 DPoP at ``/graphql``: one valid, fresh, unreplayed proof by the token's own key.

Section 4.3 lists the checks: "that there is not more than one DPoP HTTP request header field",
"the JWT signature verifies with the public key contained in the jwk JOSE Header Parameter",
"the jwk JOSE Header Parameter does not contain a private key", "the htm claim matches the HTTP
method", "the htu claim matches the HTTP URI value", "the creation time of the JWT ... is within
an acceptable window", "if presented to a protected resource in conjunction with an access
token, ensure that the value of the ath claim equals the hash of that access token; confirm
that the public key to which the access token is bound matches the public key from the DPoP proof".
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.client import new_client_key
from hub.oauth import rfc9449
from hub.oauth.clock import Clock
from hub.oauth.replay import MemoryReplayCache
from tests.oauth.conftest import (
    RESOURCE,
    TOKEN_URL,
    OAuthHub,
    Session,
    open_oauth_hub,
    production_settings,
    proof,
    refused,
)


async def test_a_request_without_a_proof_is_refused(oauth: OAuthHub, session: Session) -> None:
    assert "required" in refused(await oauth.graphql(session.token, None), 401, "invalid_dpop_proof")


async def test_two_proofs_are_refused(oauth: OAuthHub, session: Session) -> None:
    proofs = [("DPoP", proof(session.dpop_key, "POST", RESOURCE, session.token)) for _ in range(2)]
    response = await oauth.http.post(
        RESOURCE,
        json={"query": "{ __typename }"},
        headers=[("Authorization", f"DPoP {session.token}"), *proofs],
    )
    assert "exactly one" in refused(response, 401, "invalid_dpop_proof")


async def test_a_replayed_proof_is_refused(oauth: OAuthHub, session: Session) -> None:
    """RFC 9449 11.1: servers SHOULD store the jti value of each DPoP proof and reject a proof already seen.
    """
    once = proof(session.dpop_key, "POST", RESOURCE, session.token)
    assert (await oauth.graphql(session.token, None, DPoP=once)).status_code == 200
    assert "already used" in refused(
        await oauth.graphql(session.token, None, DPoP=once), 401, "invalid_dpop_proof"
    )


async def test_a_proof_for_another_method_is_refused(oauth: OAuthHub, session: Session) -> None:
    wrong = proof(session.dpop_key, "GET", RESOURCE, session.token)
    assert "htm" in refused(await oauth.graphql(session.token, None, DPoP=wrong), 401, "invalid_dpop_proof")


async def test_a_proof_for_another_uri_is_refused(oauth: OAuthHub, session: Session) -> None:
    wrong = proof(session.dpop_key, "POST", TOKEN_URL, session.token)
    assert "htu" in refused(await oauth.graphql(session.token, None, DPoP=wrong), 401, "invalid_dpop_proof")


@pytest.mark.parametrize("age", [-120, 3600])
async def test_a_stale_or_future_proof_is_refused(oauth: OAuthHub, session: Session, age: int) -> None:
    wrong = proof(session.dpop_key, "POST", RESOURCE, session.token, iat=int(time.time()) + age)
    assert "iat" in refused(await oauth.graphql(session.token, None, DPoP=wrong), 401, "invalid_dpop_proof")


async def test_a_proof_hashing_another_token_is_refused(oauth: OAuthHub, session: Session) -> None:
    other = await oauth.token(session.client, session.dpop_key)
    wrong = proof(session.dpop_key, "POST", RESOURCE, other)
    assert "ath" in refused(await oauth.graphql(session.token, None, DPoP=wrong), 401, "invalid_dpop_proof")
    missing = proof(session.dpop_key, "POST", RESOURCE, None)
    assert "ath" in refused(await oauth.graphql(session.token, None, DPoP=missing), 401, "invalid_dpop_proof")


async def test_a_proof_by_another_key_than_the_tokens_is_refused(oauth: OAuthHub, session: Session) -> None:
    thief = new_client_key()
    response = await oauth.graphql(session.token, thief)
    assert "cnf.jkt" in refused(response, 401, "invalid_dpop_proof")


async def test_a_proof_whose_jwk_carries_the_private_key_is_refused(
    oauth: OAuthHub, session: Session
) -> None:
    leaky = proof(session.dpop_key, "POST", RESOURCE, session.token, header={"jwk": session.dpop_key})
    assert "private" in refused(
        await oauth.graphql(session.token, None, DPoP=leaky), 401, "invalid_dpop_proof"
    )


async def test_a_key_checked_before_still_refuses_what_it_did_not_sign_or_a_private_member(
    oauth: OAuthHub, session: Session,
) -> None:
    """The proof's key is worked out once per JWK (``DPoPVerifier._key_of``); the signature and the
    JWK's members are still what decide every proof."""
    assert (await oauth.graphql(session.token, session.dpop_key)).status_code == 200  # its key now known
    public = {k: session.dpop_key[k] for k in ("kty", "crv", "x", "y")}
    forged = proof(new_client_key(), "POST", RESOURCE, session.token, header={"jwk": public})
    assert "signature" in refused(await oauth.graphql(session.token, None, DPoP=forged), 401, "invalid_dpop_proof")
    leaky = proof(session.dpop_key, "POST", RESOURCE, session.token, header={"jwk": session.dpop_key})
    assert "private" in refused(await oauth.graphql(session.token, None, DPoP=leaky), 401, "invalid_dpop_proof")
    assert (await oauth.graphql(session.token, session.dpop_key)).status_code == 200


async def test_the_proof_keys_kept_are_bounded_however_many_are_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rfc9449, "KEYS_KEPT", 3)
    verifier = rfc9449.DPoPVerifier(MemoryReplayCache(), Clock())
    for _ in range(7):
        key = new_client_key()
        await verifier.check([proof(key, "POST", RESOURCE)], "POST", RESOURCE)
        assert len(verifier._keys) <= 3


async def test_a_proof_of_another_type_is_refused(oauth: OAuthHub, session: Session) -> None:
    typed = proof(session.dpop_key, "POST", RESOURCE, session.token, header={"typ": "JWT"})
    assert "typ" in refused(await oauth.graphql(session.token, None, DPoP=typed), 401, "invalid_dpop_proof")


@pytest.fixture
async def nonce_hub(tmp_path: Path, demo_data_dir: Path) -> AsyncIterator[OAuthHub]:
    settings = production_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'n.sqlite'}", demo_data_dir, dpop_nonce=True
    )
    async with open_oauth_hub(settings) as hub:
        yield hub


async def test_with_nonces_on_a_proof_without_one_gets_use_dpop_nonce_and_a_nonce(
    nonce_hub: OAuthHub,
) -> None:
    """RFC 9449 8: the server responds with use_dpop_nonce and a DPoP-Nonce header providing a nonce value."""
    client = await nonce_hub.register()
    response = await nonce_hub.token_response(nonce_hub.token_form(client))
    assert response.status_code == 400 and response.json()["error"] == "use_dpop_nonce"
    assert response.headers["dpop-nonce"] and response.headers["cache-control"] == "no-store"
    key = new_client_key()
    with_nonce = proof(key, "POST", TOKEN_URL, nonce=response.headers["dpop-nonce"])
    ok = await nonce_hub.http.post(TOKEN_URL, data=nonce_hub.token_form(client), headers={"DPoP": with_nonce})
    assert ok.status_code == 200, ok.text


async def test_a_stale_nonce_at_the_resource_gets_use_dpop_nonce_with_a_fresh_one(
    nonce_hub: OAuthHub,
) -> None:
    client = await nonce_hub.register()
    key = new_client_key()
    nonce = (await nonce_hub.token_response(nonce_hub.token_form(client), key)).headers["dpop-nonce"]
    token_response = await nonce_hub.http.post(
        TOKEN_URL,
        data=nonce_hub.token_form(client),
        headers={"DPoP": proof(key, "POST", TOKEN_URL, nonce=nonce)},
    )
    token = token_response.json()["access_token"]
    nonce_hub.server.clock.offset = 250  # two nonce windows (120 s) later, the token still alive
    stale = proof(key, "POST", RESOURCE, token, nonce=nonce, iat=int(time.time()) + 250)
    try:
        response = await nonce_hub.graphql(token, None, DPoP=stale)
    finally:
        nonce_hub.server.clock.offset = 0
    refused(response, 401, "use_dpop_nonce")
    assert response.headers["dpop-nonce"] != nonce


async def test_a_proof_dated_ahead_cannot_be_replayed_after_the_replay_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A proof with iat = now + SKEW passes the iat check until SKEW + MAX_AGE s after its first use;
    its jti must be remembered at least that long (pinned clocks: the verifier's and the cache's)."""
    from hub.oauth import replay
    from hub.oauth.clock import Clock
    from hub.oauth.errors import InvalidDPoPProof
    from hub.oauth.rfc9449 import MAX_AGE, SKEW, DPoPVerifier

    monotonic = {"t": 1_000_000.0}
    monkeypatch.setattr(replay.time, "monotonic", lambda: monotonic["t"])
    base = time.time()
    clock = Clock(offset=(int(base) + 1) - base)  # now() on a whole second
    verifier = DPoPVerifier(replay.MemoryReplayCache(), clock)
    key = new_client_key()
    url = "https://hub.test/graphql"
    ahead = proof(key, "GET", url, iat=clock.now() + SKEW)
    await verifier.verify([ahead], "GET", url)
    for later in (SKEW + MAX_AGE - 0.8, SKEW + MAX_AGE + 0.2):
        clock.offset, monotonic["t"] = clock.offset + later, monotonic["t"] + later
        with pytest.raises(InvalidDPoPProof, match="already used"):
            await verifier.verify([ahead], "GET", url)
        clock.offset, monotonic["t"] = clock.offset - later, monotonic["t"] - later
