"""A department that is down costs only its own fields through the gateway too, with the same error.

A module of its own: its hub's Ecology and Environment source points at a port nobody listens on.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from tests.federation.conftest import Federated

QUERY = """
query($uscc: String!) {
  enterprise(uscc: $uscc) { name taxRegistration { creditGrade } dischargePermits { number } licences { number } }
}"""


@pytest.fixture(scope="module")
def hub_overrides() -> dict[str, Any]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    return {"sources": {"ecology": {"url": f"http://127.0.0.1:{closed_port}", "timeout": 1.0}}}


def _source_errors(answer: dict[str, Any]) -> list[tuple[str, str, tuple[Any, ...]]]:
    return sorted(
        (e["extensions"]["code"], e["extensions"]["department"], tuple(e["path"])) for e in answer["errors"]
    )


def test_a_department_down_yields_null_and_an_error_naming_it_through_the_gateway(federated: Federated) -> None:
    uscc = federated.hub_query("{ enterprises(first: 1) { edges { node { uscc } } } }")
    variables = {"uscc": uscc["data"]["enterprises"]["edges"][0]["node"]["uscc"]}
    own = federated.hub_query(QUERY, variables)
    through_gateway = federated.gateway_query(QUERY, variables)
    assert through_gateway["data"] == own["data"]
    assert own["data"]["enterprise"]["dischargePermits"] is None and own["data"]["enterprise"]["name"]
    assert _source_errors(through_gateway) == _source_errors(own) == [
        ("SOURCE_UNAVAILABLE", "ecology", ("enterprise", "dischargePermits")),
        ("SOURCE_UNAVAILABLE", "ecology", ("enterprise", "licences")),
    ]
