"""The development demo's open door: no credentials is anonymous, bad credentials are refused."""

from __future__ import annotations

from tests.graph.conftest import HubClient


async def test_demo_answers_a_request_without_credentials(hub: HubClient) -> None:
    assert hub.hub.settings.anonymous_access
    response = await hub.http.post("/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_demo_refuses_a_bad_token_instead_of_treating_it_as_anonymous(hub: HubClient) -> None:
    for headers in ({"Authorization": "DPoP not-a-token"}, {"Authorization": "Bearer x"}, {"DPoP": "x.y.z"}):
        response = await hub.http.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"].startswith("DPoP")
        assert "data" not in response.json()
