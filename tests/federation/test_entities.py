"""`_entities` on the hub's subgraph endpoints: batched through the request's loaders, like /graphql."""

from __future__ import annotations

import base64
from typing import Any

from tests.graph.conftest import HubClient

ENTITIES = "query($r: [_Any!]!) { _entities(representations: $r) { %s } }"


async def _entities(hub: HubClient, department: str, selection: str, reps: list[dict[str, Any]],
                    **headers: str) -> dict[str, Any]:
    response = await hub.http.post(
        f"/subgraphs/{department}/graphql", json={"query": ENTITIES % selection, "variables": {"r": reps}},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body["errors"]
    return body


def _calls_made(hub: HubClient, before: dict[tuple[str, str], float]) -> dict[tuple[str, str], float]:
    return {key: n - before[key] for key, n in hub.all_source_calls().items() if n != before[key]}


async def _enterprises(hub: HubClient, selection: str) -> list[dict[str, Any]]:
    page = await hub.query(f"{{ enterprises(first: 100) {{ edges {{ node {{ uscc {selection} }} }} }} }}")
    return [edge["node"] for edge in page["data"]["enterprises"]["edges"]]


# Expected values are read from /graphql after the `_entities` call: before it, they would warm the
# entity cache and the call under test would need no source at all.


async def test_hundred_enterprises_from_market_cost_one_call_per_entity(hub: HubClient) -> None:
    reps = [{"__typename": "Enterprise", "uscc": e["uscc"]} for e in await _enterprises(hub, "")]
    before = hub.all_source_calls()
    body = await _entities(hub, "market", "... on Enterprise { uscc name legalRepresentative { name } }", reps)
    assert _calls_made(hub, before) == {("market", "enterprise"): 1, ("market", "person"): 1}
    assert len(reps) == 100
    assert body["data"]["_entities"] == await _enterprises(hub, "name legalRepresentative { name }")


async def test_taxation_adds_tax_registrations_to_enterprises_it_knows_by_key(hub: HubClient) -> None:
    reps = [{"__typename": "Enterprise", "uscc": e["uscc"]} for e in await _enterprises(hub, "")]
    before = hub.all_source_calls()
    body = await _entities(hub, "taxation", "... on Enterprise { uscc taxRegistration { creditGrade status } }", reps)
    assert _calls_made(hub, before) == {("taxation", "tax_registration"): 1}
    assert body["data"]["_entities"] == await _enterprises(hub, "taxRegistration { creditGrade status }")


async def test_a_permits_holder_is_a_reference_for_market_to_resolve(hub: HubClient) -> None:
    page = await hub.query("{ licences(first: 100, kind: CONSTRUCTION) { edges { node { number holderUscc } } } }")
    permits = [edge["node"] for edge in page["data"]["licences"]["edges"]]
    reps = [{"__typename": "ConstructionPermit", "number": p["number"]} for p in permits]
    before = hub.all_source_calls()
    body = await _entities(hub, "housing", "... on ConstructionPermit { number holder { uscc } }", reps)
    assert body["data"]["_entities"] == [{"number": p["number"], "holder": {"uscc": p["holderUscc"]}} for p in permits]
    assert _calls_made(hub, before) == {("housing", "construction_permit"): 1}


async def test_security_verifies_people_by_the_name_the_gateway_brings(hub: HubClient) -> None:
    people = [e["legalRepresentative"] for e in await _enterprises(hub, "legalRepresentative { idNumber name }")]
    reps = [{"__typename": "Person", "idNumber": p["idNumber"], "name": p["name"]} for p in people]
    reps[0]["name"] = "冒名"  # a name Public Security does not have for that number
    selection = "identityVerification { verified found nameMatches status }"
    before = hub.all_source_calls()
    body = await _entities(hub, "security", f"... on Person {{ {selection} }}", reps)
    assert _calls_made(hub, before) == {("security", "identity_record"): 1}
    verified = [e["identityVerification"] for e in body["data"]["_entities"]]
    expected = await _enterprises(hub, f"legalRepresentative {{ {selection} }}")
    assert verified[1:] == [e["legalRepresentative"]["identityVerification"] for e in expected[1:]]
    assert verified[0]["nameMatches"] is False and verified[0]["verified"] is False


async def test_an_unknown_key_resolves_to_null(hub: HubClient) -> None:
    reps = [{"__typename": "Case", "number": "NOSUCHCASE0001"}]
    body = await _entities(hub, "centre", "... on Case { number }", reps)
    assert body["data"]["_entities"] == [None]


def _messages(data: bytes) -> dict[int, list[Any]]:
    """Protobuf fields of a message: number -> values (ints, or bytes for length-delimited)."""
    fields: dict[int, list[Any]] = {}
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        if key & 7 == 0:
            value, i = _varint(data, i)
        else:
            length, i = _varint(data, i)
            value, i = data[i:i + length], i + length
        fields.setdefault(key >> 3, []).append(value)
    return fields


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[i]
        value |= (byte & 0x7F) << shift
        i, shift = i + 1, shift + 7
        if byte < 0x80:
            return value, i


async def test_a_gateway_asking_for_ftv1_gets_a_trace_with_a_node_per_field(hub: HubClient) -> None:
    reps = [{"__typename": "Enterprise", "uscc": e["uscc"]} for e in await _enterprises(hub, "")][:2]
    body = await _entities(hub, "taxation", "... on Enterprise { taxRegistration { creditGrade } }", reps,
                           **{"apollo-federation-include-trace": "ftv1"})
    trace = _messages(base64.b64decode(body["extensions"]["ftv1"]))
    assert trace[11][0] > 0  # duration_ns
    assert _messages(trace[3][0])[1][0] >= _messages(trace[4][0])[1][0] > 1_700_000_000  # end >= start (s)
    (entities,) = [_messages(c) for c in _messages(trace[14][0])[12]]
    assert entities[1] == [b"_entities"] and entities[13] == [b"Query"]
    items = [_messages(c) for c in entities[12]]
    assert [item.get(2, [0])[0] for item in items] == [0, 1]  # list indices (0 is the default value)
    tax = _messages(items[1][12][0])
    assert tax[1] == [b"taxRegistration"] and tax[3] == [b"TaxRegistration"] and tax[9][0] >= tax[8][0]


async def test_without_the_header_there_is_no_trace(hub: HubClient) -> None:
    body = await _entities(hub, "taxation", "__typename", [])
    assert body == {"data": {"_entities": []}}
