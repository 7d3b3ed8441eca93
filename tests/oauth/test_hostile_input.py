"""Hostile input at the OAuth edges: every malformed token is the OAuth error it should be, never a 500.

RFC 6749 5.1/5.2 and FAPI 2.0: token endpoint answers, errors included, carry
``Cache-Control: no-store``; RFC 7662 2.2: a token the server cannot read is ``{"active": false}``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from hub.oauth import jws
from hub.client import new_client_key
from tests.oauth.conftest import RESOURCE, TOKEN_URL, OAuthHub, Session, proof, refused


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# Deep enough to exhaust the JSON decoder's recursion limit, short enough to pass the size cap.
NESTED = f"{_b64(b'[' * 2000 + b']' * 2000)}.{_b64(json.dumps({'a': 1}).encode())}.c2ln"
OVERSIZED = f"{_b64(json.dumps({'alg': 'ES256', 'x': 'y' * 9000}).encode())}.{_b64(b'{}')}.c2ln"


def test_deeply_nested_json_in_a_jws_segment_is_a_rejection_not_a_recursion_error() -> None:
    assert len(NESTED) <= jws.MAX_COMPACT
    with pytest.raises(jws.JWSRejected):
        jws.parts(NESTED)


def test_a_compact_jws_over_the_cap_is_refused_before_it_is_decoded() -> None:
    with pytest.raises(jws.JWSRejected, match="at most"):
        jws.parts(OVERSIZED)


@pytest.mark.parametrize("bad", [NESTED, OVERSIZED], ids=["nested", "oversized"])
async def test_a_hostile_dpop_header_at_the_token_endpoint_is_invalid_dpop_proof(
    oauth: OAuthHub, bad: str
) -> None:
    client = await oauth.register()
    response = await oauth.http.post(TOKEN_URL, data=oauth.token_form(client), headers={"DPoP": bad})
    assert response.status_code == 400 and response.json()["error"] == "invalid_dpop_proof"
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("bad", [NESTED, OVERSIZED], ids=["nested", "oversized"])
async def test_a_hostile_dpop_header_at_graphql_is_invalid_dpop_proof(
    oauth: OAuthHub, session: Session, bad: str
) -> None:
    refused(await oauth.graphql(session.token, None, DPoP=bad), 401, "invalid_dpop_proof")


@pytest.mark.parametrize("bad", [NESTED, OVERSIZED], ids=["nested", "oversized"])
async def test_a_hostile_access_token_at_graphql_is_invalid_token(
    oauth: OAuthHub, session: Session, bad: str
) -> None:
    refused(await oauth.graphql(bad, session.dpop_key), 401, "invalid_token")


@pytest.mark.parametrize("bad", [NESTED, OVERSIZED], ids=["nested", "oversized"])
async def test_a_hostile_client_assertion_is_invalid_client(oauth: OAuthHub, bad: str) -> None:
    client = await oauth.register()
    response = await oauth.token_response(oauth.token_form(client, bad))
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("bad", [NESTED, OVERSIZED], ids=["nested", "oversized"])
async def test_a_hostile_token_at_introspection_is_exactly_inactive(
    oauth: OAuthHub, session: Session, bad: str
) -> None:
    response = await oauth.http.post(
        "/oauth/introspect", data={**oauth.token_form(session.client), "token": bad}
    )
    assert response.status_code == 200 and response.json() == {"active": False}
    assert response.headers["cache-control"] == "no-store"


async def test_an_unexpected_error_at_an_oauth_endpoint_is_a_generic_500_with_no_store(
    oauth: OAuthHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await oauth.register()
    parts = oauth.server.parts

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("db down: password=hunter2 host=db.internal")

    monkeypatch.setattr(parts.registry, "client", broken)
    response = await oauth.token_response(oauth.token_form(client))
    assert response.status_code == 500 and response.json()["error"] == "server_error"
    assert response.headers["cache-control"] == "no-store"
    assert "hunter2" not in response.text


def _reheadered(token: str, **header: Any) -> str:
    """The token with header values changed (the signature no longer matters: the header is refused)."""
    head, claims = jws.parts(token)
    signing_input = f"{_b64(json.dumps({**head, **header}).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(bytes(64))}"


@pytest.mark.parametrize(
    "header",
    [{"alg": "\u4e2d\u6587"}, {"typ": "\u4e2d\u6587"}, {"alg": "A" * 3000}, {"typ": "t" * 3000}],
    ids=["non-latin-1 alg", "non-latin-1 typ", "long alg", "long typ"],
)
async def test_header_values_are_never_echoed_into_www_authenticate(
    oauth: OAuthHub, session: Session, header: dict[str, str]
) -> None:
    forged = _reheadered(session.token, **header)
    assert len(forged) <= jws.MAX_COMPACT
    response = await oauth.graphql(forged, session.dpop_key)
    refused(response, 401, "invalid_token")
    challenge = response.headers["www-authenticate"]
    assert len(challenge) < 250 and challenge.isascii()
    value = next(iter(header.values()))
    assert value[:20] not in challenge and value[:20] not in response.json()["error_description"]


async def test_a_dpop_proof_typ_is_never_echoed_into_www_authenticate(oauth: OAuthHub, session: Session) -> None:
    bad = _reheadered(proof(new_client_key(), "POST", RESOURCE, session.token), typ="\u00e9" + "x" * 3000)
    response = await oauth.graphql(session.token, None, DPoP=bad)
    refused(response, 401, "invalid_dpop_proof")
    assert len(response.headers["www-authenticate"]) < 250 and "xxxxxxxxxx" not in response.text


async def test_a_client_assertion_typ_is_never_echoed(oauth: OAuthHub) -> None:
    client = await oauth.register()
    assertion = oauth.assertion(client, header={"typ": "x" * 3000})
    response = await oauth.token_response(oauth.token_form(client, assertion))
    assert response.status_code == 401 and "xxxxxxxxxx" not in response.text


async def test_a_streamed_body_without_content_length_is_refused_before_it_is_read_whole(
    oauth: OAuthHub,
) -> None:
    sent = 0

    async def body() -> Any:
        nonlocal sent
        yield b"a="
        for _ in range(256):  # 4 MB in 16 KB chunks, no Content-Length (chunked)
            sent += 1
            yield b"x" * 16_384

    response = await oauth.http.post(
        TOKEN_URL, content=body(), headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert "too large" in response.json()["error_description"]
    assert response.headers["cache-control"] == "no-store"
    assert sent < 16, f"{sent} chunks of 16 KB read for a 64 KB limit"


async def test_a_declared_content_length_over_the_limit_is_refused_before_reading(oauth: OAuthHub) -> None:
    sent = 0

    async def body() -> Any:
        nonlocal sent
        sent += 1
        yield b"a=b"

    response = await oauth.http.post(
        TOKEN_URL,
        content=body(),
        headers={"content-type": "application/x-www-form-urlencoded", "content-length": "100000000"},
    )
    assert response.status_code == 400 and "too large" in response.json()["error_description"]
    assert sent == 0
