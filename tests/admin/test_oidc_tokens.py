"""The id_token checks, each with a token signed by the real provider's own key (or one it would never
use) and verified against the JWKS the provider publishes: only a token every check passes is accepted."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

from hub.accounts.oidc_tokens import IdTokenRefused, verified_claims
from tests.admin.oidc_peer import CLIENT_ID, CLIENT_SECRET, Provider
from tests.admin.test_oidc_flow import provider  # noqa: F401

NONCE = "the-nonce-this-browser-sent"


@pytest.fixture(scope="module")
def published_keys(provider: Provider) -> Iterator[dict[str, Any]]:  # noqa: F811
    metadata = httpx.get(f"{provider.issuer}/.well-known/openid-configuration").json()
    yield httpx.get(metadata["jwks_uri"]).json()


def claims(provider: Provider, **changes: Any) -> dict[str, Any]:  # noqa: F811
    now = int(time.time())
    base = {
        "iss": provider.issuer, "aud": CLIENT_ID, "sub": "mei.city", "nonce": NONCE,
        "iat": now, "exp": now + 300,
    }
    return {k: v for k, v in (base | changes).items() if v is not None}


def signed(provider: Provider, body: dict[str, Any], key: Any = None, alg: str = "RS256") -> str:  # noqa: F811
    return jwt.encode({"alg": alg, "kid": "provider-1"}, body, key or provider.signing_key)


def verify(token: str, keys: dict[str, Any], provider: Provider) -> dict[str, Any]:  # noqa: F811
    return verified_claims(token, keys, issuer=provider.issuer, client_id=CLIENT_ID, nonce=NONCE)


def test_a_token_from_the_provider_for_this_client_and_nonce_is_accepted(
    provider: Provider, published_keys: dict[str, Any]  # noqa: F811
) -> None:
    assert verify(signed(provider, claims(provider)), published_keys, provider)["sub"] == "mei.city"


@pytest.mark.parametrize(("changes", "why"), [
    ({"aud": "another-client"}, "aud"),
    ({"aud": None}, "aud"),
    ({"iss": "https://evil.example"}, "iss"),
    ({"nonce": "another-nonce"}, "nonce"),
    ({"nonce": None}, "nonce"),
    ({"exp": int(time.time()) - 600}, "exp"),
    ({"iat": None}, "iat"),
    ({"sub": None}, "sub"),
])
def test_a_token_failing_one_claim_check_is_refused(
    provider: Provider, published_keys: dict[str, Any], changes: dict[str, Any], why: str  # noqa: F811
) -> None:
    with pytest.raises(IdTokenRefused, match=why):
        verify(signed(provider, claims(provider, **changes)), published_keys, provider)


def test_a_token_for_several_clients_must_name_this_one_as_authorized_party(
    provider: Provider, published_keys: dict[str, Any]  # noqa: F811
) -> None:
    several = claims(provider, aud=[CLIENT_ID, "another-client"], azp="another-client")
    with pytest.raises(IdTokenRefused, match="several clients"):
        verify(signed(provider, several), published_keys, provider)
    ours = claims(provider, aud=[CLIENT_ID, "another-client"], azp=CLIENT_ID)
    assert verify(signed(provider, ours), published_keys, provider)["azp"] == CLIENT_ID


def test_a_token_signed_by_a_key_the_provider_does_not_publish_is_refused(
    provider: Provider, published_keys: dict[str, Any]  # noqa: F811
) -> None:
    impostor = RSAKey.generate_key(2048, parameters={"kid": "provider-1"})
    with pytest.raises(IdTokenRefused, match="signature"):
        verify(signed(provider, claims(provider), impostor), published_keys, provider)


def test_a_token_signed_with_the_client_secret_is_refused(
    provider: Provider, published_keys: dict[str, Any]  # noqa: F811
) -> None:
    secret = OctKey.import_key(CLIENT_SECRET)
    keys = {"keys": [*published_keys["keys"], secret.as_dict()]}
    with pytest.raises(IdTokenRefused):
        verify(jwt.encode({"alg": "HS256"}, claims(provider), secret), keys, provider)


def test_an_unsigned_token_is_refused(
    provider: Provider, published_keys: dict[str, Any]  # noqa: F811
) -> None:
    _, body, _ = signed(provider, claims(provider)).split(".")
    with pytest.raises(IdTokenRefused):
        verify("eyJhbGciOiJub25lIn0." + body + ".", published_keys, provider)  # {"alg":"none"}


def test_a_token_with_a_tampered_body_is_refused(
    provider: Provider, published_keys: dict[str, Any]  # noqa: F811
) -> None:
    header, _, signature = signed(provider, claims(provider)).split(".")
    _, other_body, _ = signed(provider, claims(provider, sub="olga")).split(".")
    with pytest.raises(IdTokenRefused, match="signature"):
        verify(f"{header}.{other_body}.{signature}", published_keys, provider)


def test_garbage_is_refused(
    provider: Provider, published_keys: dict[str, Any]  # noqa: F811
) -> None:
    for token in ("", "a.b.c", "not a token"):
        with pytest.raises(IdTokenRefused):
            verify(token, published_keys, provider)
    with pytest.raises(IdTokenRefused):
        other_keys = {"keys": [ECKey.generate_key("P-256").as_dict()]}
        verify(signed(provider, claims(provider)), other_keys, provider)
