"""Limits and quotas as the registry holds them, with real tokens on a production hub: the operator's
limits and the data owner's quota hold from the client's next request, and only the owner sets a quota."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from hub.client import HubAuth
from hub.fairuse.limits import ClientLimits
from hub.grants import Actor, Forbidden
from tests.oauth.conftest import OPERATOR, RESOURCE, TOKEN_URL, OAuthHub, oauth  # noqa: F401

SCOPE = "market.enterprise:read"
PAGE = "query($n: Int!) { enterprises(first: $n) { edges { node { uscc name } } } }"


async def ask(oauth: OAuthHub, auth: HubAuth, n: int) -> httpx.Response:  # noqa: F811
    return await oauth.http.post(
        RESOURCE, json={"query": PAGE, "variables": {"n": n}}, auth=auth,
        headers={"X-Hub-Purpose": "licensing", "accept": "application/graphql-response+json"},
    )


def code_of(response: httpx.Response) -> Any:
    return response.json()["errors"][0]["extensions"]["code"] if response.status_code != 200 else None


async def test_limits_the_operator_sets_hold_from_the_client_s_next_request(oauth: OAuthHub) -> None:  # noqa: F811
    client = await oauth.register("housing", frozenset({SCOPE}))
    auth = HubAuth(TOKEN_URL, client.client_id, client.key, RESOURCE, SCOPE)
    assert (await ask(oauth, auth, 1)).status_code == 200
    await (await oauth.registry()).set_limits(client.client_id, ClientLimits(rate=0.001, burst=1))
    assert (await ask(oauth, auth, 1)).status_code == 200  # the bucket, capped at the new burst: one left
    refused = await ask(oauth, auth, 1)
    assert (refused.status_code, code_of(refused)) == (429, "RATE_LIMITED")
    assert int(refused.headers["retry-after"]) > 900
    await (await oauth.registry()).set_limits(client.client_id, None)  # the defaults refill at 50 a second
    oauth.hub.fair_use.clock = lambda: time.time() + 1
    assert (await ask(oauth, auth, 1)).status_code == 200


async def test_a_quota_the_data_owner_sets_on_a_grant_holds_from_the_next_request(oauth: OAuthHub) -> None:  # noqa: F811
    client = await oauth.register("housing", frozenset({SCOPE}))
    auth = HubAuth(TOKEN_URL, client.client_id, client.key, RESOURCE, SCOPE)
    service = await oauth.grants()
    [grant] = await service.grants(client_id=client.client_id, active_only=True)
    await service.set_quota(Actor("m-steward", "steward", "market"), grant.grant_id, 2, "identity checks only")
    assert (await ask(oauth, auth, 2)).status_code == 200
    over = await ask(oauth, auth, 3)
    assert (over.status_code, code_of(over)) == (429, "FORBIDDEN")
    assert over.json()["errors"][0]["extensions"]["reason"] == "quota"
    await service.set_quota(OPERATOR, grant.grant_id, None)
    assert (await ask(oauth, auth, 3)).status_code == 200


@pytest.mark.parametrize("actor", [
    Actor("h-steward", "steward", "housing"),  # the consuming department's steward
    Actor("e-steward", "steward", "ecology"),  # an uninvolved department's
    Actor("audrey", "auditor"), Actor("dev", "developer"),
])
async def test_only_the_data_owner_or_the_operator_sets_a_quota(oauth: OAuthHub, actor: Actor) -> None:  # noqa: F811
    client = await oauth.register("housing", frozenset({SCOPE}))
    service = await oauth.grants()
    [grant] = await service.grants(client_id=client.client_id, active_only=True)
    with pytest.raises(Forbidden):
        await service.set_quota(actor, grant.grant_id, 10)
    assert (await service.grant(grant.grant_id)).daily_quota is None
