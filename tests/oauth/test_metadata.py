"""RFC 8414 metadata and the JWKS: what a client or verifier learns about the hub."""

from __future__ import annotations

from hub.oauth.rfc7638 import PRIVATE_MEMBERS, thumbprint
from tests.oauth.conftest import ISSUER, OAuthHub


async def test_metadata_names_the_issuer_endpoints_and_the_one_way_in(oauth: OAuthHub) -> None:
    """RFC 8414 3.3: the issuer value returned MUST be identical to the issuer identifier."""
    meta = (await oauth.http.get("/.well-known/oauth-authorization-server")).json()
    assert meta["issuer"] == ISSUER and meta["token_endpoint"] == f"{ISSUER}/oauth/token"
    assert meta["jwks_uri"] == f"{ISSUER}/oauth/jwks"
    assert meta["grant_types_supported"] == ["client_credentials"]
    assert meta["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert meta["dpop_signing_alg_values_supported"] == ["ES256"]
    assert "market.enterprise:read" in meta["scopes_supported"]


async def test_jwks_publishes_next_and_active_then_retired_keys_never_a_private_member(
    oauth: OAuthHub,
) -> None:
    keys = (await oauth.http.get("/oauth/jwks")).json()["keys"]
    assert len(keys) == 2
    parts = oauth.server.parts
    await parts.keyring.store.rotate()
    await parts.keyring.reload()
    rotated = (await oauth.http.get("/oauth/jwks")).json()["keys"]
    assert len(rotated) == 3 and {k["kid"] for k in keys} < {k["kid"] for k in rotated}
    for key in rotated:
        assert not PRIVATE_MEMBERS & set(key)
        assert key["kid"] == thumbprint(key) and key["alg"] == "ES256" and key["crv"] == "P-256"
