"""What the developer tests share: grants made through the grant workflow, the browser's side of a
token request (a public DPoP key), and /graphql called with the token and a proof, as the page does."""

from __future__ import annotations

from typing import Any

import httpx

from hub.client import new_client_key
from hub.grants import Grant, GrantService
from tests.admin.conftest import ORIGIN, Console, Person
from tests.oauth.conftest import OPERATOR, grant_catalogue, proof

GRAPHQL = f"{ORIGIN}/graphql"


def public_of(key: dict[str, Any]) -> dict[str, Any]:
    return {k: key[k] for k in ("kty", "crv", "x", "y")}


async def grants(console: Console) -> GrantService:
    server = console.app.state.hub.oauth
    return GrantService(server.parts.engine, grant_catalogue(), server.clock)


async def grant(
    console: Console, client_id: str, scopes: set[str], purposes: tuple[str, ...] = ("licensing",)
) -> Grant:
    """One grant of ``scopes`` (all of one owning department) by the operator, through the workflow."""
    service = await grants(console)
    return await service.grant_now(OPERATOR, client_id, scopes, purposes, "developer tests", 30)


async def token_request(
    person: Person, client_id: str, key: dict[str, Any] | None = None, purpose: str = "licensing"
) -> httpx.Response:
    jwk = public_of(key or new_client_key())
    return await person.api("POST", "/developer/token", {"client_id": client_id, "purpose": purpose, "jwk": jwk})


async def graphql(
    console: Console, token: str, key: dict[str, Any], query: str, purpose: str = "licensing"
) -> httpx.Response:
    """What the page's fetcher sends: the token, a fresh proof, the purpose; no cookies."""
    http = console.person().http
    return await http.post("/graphql", json={"query": query}, headers={
        "authorization": f"DPoP {token}", "dpop": proof(key, "POST", GRAPHQL, token), "x-hub-purpose": purpose,
        "accept": "application/json",
    })
