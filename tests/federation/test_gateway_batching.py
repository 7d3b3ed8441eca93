"""Through Apollo Gateway, entity resolution is batched: one source call per (connector, entity).

A module of its own, so that its hub starts with a cold entity cache: every count here is a call the
gateway's query plan caused, not one a warm cache saved.
"""

from __future__ import annotations

from tests.federation.conftest import Federated

HOLDERS = "{ licences(first: 100) { edges { node { number holder { name legalRepresentative { name } } } } } }"


def _all_calls(federated: Federated) -> dict[tuple[str, str], float]:
    sources = federated.hub.sources
    return {(c, e): federated.source_calls(c, e) for c, conn in sources.connectors.items() for e in conn.entities()}


def test_a_hundred_licences_holders_cost_one_market_enterprise_call(federated: Federated) -> None:
    before = _all_calls(federated)
    answer = federated.gateway_query(HOLDERS)
    calls = {key: n - before[key] for key, n in _all_calls(federated).items() if n != before[key]}
    assert "errors" not in answer, answer["errors"]
    edges = answer["data"]["licences"]["edges"]
    assert len(edges) == 100 and len({e["node"]["holder"]["name"] for e in edges}) > 1
    assert calls[("market", "enterprise")] == 1, calls
    assert calls[("market", "person")] == 1, calls
    # Each register: one page for the centre's list, one fetch by number for the issuer's fields.
    assert all(n <= 2 for n in calls.values()), calls
    assert answer["data"] == federated.hub_query(HOLDERS)["data"]
