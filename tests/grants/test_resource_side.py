"""Grants at the resource side: the client is read per request, so revocation, expiry and a
removed purpose take effect on the next request with the same token; tokens carry only what
is granted now. Through the real app in-process, on SQLite."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from hub.client import new_client_key
from hub.context import Caller
from hub.errors import AccessRefused
from tests.grants.conftest import DAY
from tests.oauth.conftest import OPERATOR, RESOURCE, OAuthHub, oauth, proof  # noqa: F401 (the fixture)

IDENTITY = "security.identity:read"
PERMITS = "ecology.discharge_permit:read"


def _request(token: str, dpop_key: dict[str, Any], purpose: str = "licensing") -> Request:
    headers = [
        (b"authorization", f"DPoP {token}".encode()),
        (b"dpop", proof(dpop_key, "POST", RESOURCE, token).encode()),
        (b"x-hub-purpose", purpose.encode()),
    ]
    scope = {
        "type": "http", "method": "POST", "path": "/graphql", "root_path": "", "query_string": b"",
        "headers": headers, "scheme": "https", "server": ("hub.test", 443),
    }
    return Request(scope)


async def _caller(oauth: OAuthHub, token: str, dpop_key: dict[str, Any]) -> Caller:  # noqa: F811
    return await oauth.hub.authenticate(_request(token, dpop_key))


async def _refusal(oauth: OAuthHub, token: str, dpop_key: dict[str, Any]) -> AccessRefused:  # noqa: F811
    try:
        await _caller(oauth, token, dpop_key)
    except AccessRefused as refused:
        return refused
    raise AssertionError("the request was accepted")


async def test_the_caller_carries_the_grants_purposes_and_the_departments_jurisdiction(oauth: OAuthHub) -> None:  # noqa: F811
    registry = await oauth.registry()
    await registry.add_department("ecology", "Ecology", jurisdiction="1302")
    client = await oauth.register("ecology", frozenset({"market.enterprise:read"}), ("licensing", "supervision"))
    dpop_key = new_client_key()
    caller = await _caller(oauth, await oauth.token(client, dpop_key), dpop_key)
    assert caller.scopes == {"market.enterprise:read"} and caller.jurisdiction == "1302"
    assert caller.grants == {"market.enterprise:read": frozenset({"licensing", "supervision"})}
    assert caller.department == "ecology" and caller.purpose == "licensing" and not caller.unrestricted


async def test_a_revoked_grant_is_gone_on_the_next_request_with_the_same_token(oauth: OAuthHub) -> None:  # noqa: F811
    client = await oauth.register("centre", frozenset({"market.enterprise:read"}))
    [permits] = await oauth.grant(client.client_id, frozenset({PERMITS}), ("supervision",))
    dpop_key = new_client_key()
    issued = await oauth.token_response(oauth.token_form(client, scope=f"market.enterprise:read {PERMITS}"), dpop_key)
    token = issued.json()["access_token"]
    assert (await _caller(oauth, token, dpop_key)).scopes == {"market.enterprise:read", PERMITS}
    service = await oauth.grants()
    await service.revoke(OPERATOR, permits.grant_id, "permit checks now done by ecology itself")
    caller = await _caller(oauth, token, dpop_key)
    assert caller.scopes == {"market.enterprise:read"} and PERMITS not in caller.grants
    for grant in await service.grants(client_id=client.client_id, active_only=True):
        await service.revoke(OPERATOR, grant.grant_id, "the project ended")
    refused = await _refusal(oauth, token, dpop_key)
    assert refused.status == 403 and refused.error == "insufficient_scope"
    response = await oauth.graphql(token, dpop_key)
    assert response.status_code == 403 and response.json()["error"] == "insufficient_scope"


async def test_an_expired_grant_is_gone_on_the_next_request_with_the_same_token(oauth: OAuthHub) -> None:  # noqa: F811
    clock = oauth.server.clock
    client = await oauth.register("centre", frozenset())
    clock.offset = -(DAY - 20)  # a one-day grant made a day ago, ending in 20 s
    await oauth.grant(client.client_id, frozenset({"market.enterprise:read"}), days=1)
    clock.offset = 0
    dpop_key = new_client_key()
    token = await oauth.token(client, dpop_key)
    assert (await _caller(oauth, token, dpop_key)).scopes == {"market.enterprise:read"}
    clock.offset = 21  # the token (minutes) and a fresh proof are still good; the grant is not
    assert (await _refusal(oauth, token, dpop_key)).error == "insufficient_scope"


async def test_a_removed_purpose_is_gone_from_the_caller_on_the_next_request(oauth: OAuthHub) -> None:  # noqa: F811
    client = await oauth.register("centre", frozenset({"market.enterprise:read"}), ("licensing", "statistics"))
    dpop_key = new_client_key()
    token = await oauth.token(client, dpop_key)
    service = await oauth.grants()
    [grant] = await service.grants(client_id=client.client_id)
    await service.amend(OPERATOR, grant.grant_id, ["statistics"], "statistics ended")
    caller = await _caller(oauth, token, dpop_key)
    assert caller.grants == {"market.enterprise:read": frozenset({"licensing"})}


async def test_tokens_carry_only_scopes_granted_now(oauth: OAuthHub) -> None:  # noqa: F811
    client = await oauth.register("centre", frozenset({"market.enterprise:read"}))
    form = oauth.token_form(client, scope=None)
    issued = await oauth.token_response(form)
    assert issued.status_code == 200 and issued.json()["scope"] == "market.enterprise:read"
    escalated = await oauth.token_response(oauth.token_form(client, scope="market.enterprise:read market.food_licence:read"))
    assert escalated.status_code == 400 and escalated.json()["error"] == "invalid_scope"
    assert "market.food_licence:read" in escalated.json()["error_description"]
    service = await oauth.grants()
    for grant in await service.grants(client_id=client.client_id):
        await service.revoke(OPERATOR, grant.grant_id, "ended")
    none_left = await oauth.token_response(oauth.token_form(client, scope=None))
    assert none_left.status_code == 400 and none_left.json()["error"] == "invalid_scope"


async def test_a_pending_conditional_request_puts_nothing_in_a_token(oauth: OAuthHub) -> None:  # noqa: F811
    from hub.grants import Actor

    client = await oauth.register("centre", frozenset({"market.enterprise:read"}))
    await oauth.department("security")
    service = await oauth.grants()
    steward = Actor("chen", "steward", "centre")
    asked = await service.request(steward, client.client_id, [IDENTITY], ["identity_check"], "basis", 30)
    assert asked.status == "pending"
    response = await oauth.token_response(oauth.token_form(client, scope=None))
    assert response.json()["scope"] == "market.enterprise:read"
