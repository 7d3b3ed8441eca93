"""Operation limits hold however the operation is written: through fragments, variables, cycles."""

from __future__ import annotations

import asyncio

import pytest
from graphql import get_introspection_query

from hub.graphql import documents
from tests.edge.conftest import EdgeHub, refusal_of, send

# Six fields deep: enterprise > licences > holder > licences > holder > name.
SIX_DEEP = "{ enterprise(uscc: $u) { licences { holder { licences { holder { name } } } } } }"


def six_deep(query: str = SIX_DEEP) -> str:
    return "query($u: String!) " + query


async def test_a_query_deeper_than_max_depth_is_refused_before_any_department_is_asked(
    edge_hub: EdgeHub, some_uscc: str
) -> None:
    async with edge_hub(max_depth=5) as hub:
        before = hub.all_source_calls()
        error = refusal_of(await send(hub, six_deep(), {"u": some_uscc}))
        assert error["extensions"]["code"] == "DEPTH_LIMIT_EXCEEDED"
        assert "max_depth = 5" in error["message"]
        assert hub.all_source_calls() == before


async def test_a_query_at_max_depth_runs(edge_hub: EdgeHub, some_uscc: str) -> None:
    async with edge_hub(max_depth=6) as hub:
        result = await hub.query(six_deep(), {"u": some_uscc})
        assert "errors" not in result and result["data"]["enterprise"]["licences"]


async def test_depth_is_counted_through_fragments_and_inline_fragments(edge_hub: EdgeHub, some_uscc: str) -> None:
    query = """
    query($u: String!) { enterprise(uscc: $u) { ...Held } }
    fragment Held on Enterprise { licences { ... on Licence { holder { ...Again } } } }
    fragment Again on Enterprise { licences { holder { ... { name } } } }
    """
    async with edge_hub(max_depth=5) as hub:
        error = refusal_of(await send(hub, query, {"u": some_uscc}))
        assert error["extensions"]["code"] == "DEPTH_LIMIT_EXCEEDED"


async def test_a_recursive_fragment_cycle_is_refused_and_cannot_hang_the_hub(edge_hub: EdgeHub) -> None:
    query = """
    { enterprise(uscc: "x") { ...A } }
    fragment A on Enterprise { licences { holder { ...B } } }
    fragment B on Enterprise { ...A name }
    """
    async with edge_hub() as hub:
        response = await asyncio.wait_for(send(hub, query), timeout=5)
        error = refusal_of(response)
        assert error["extensions"]["code"] in ("GRAPHQL_VALIDATION_FAILED", "DEPTH_LIMIT_EXCEEDED")


async def test_a_chain_of_fragments_deeper_than_the_stack_is_refused_not_crashed(edge_hub: EdgeHub) -> None:
    chain = "\n".join(f"fragment F{i} on Enterprise {{ licences {{ holder {{ ...F{i + 1} }} }} }}" for i in range(900))
    query = '{ enterprise(uscc: "x") { ...F0 } }\n' + chain + "\nfragment F900 on Enterprise { name }"
    async with edge_hub() as hub:
        error = refusal_of(await send(hub, query))
        assert error["extensions"]["code"] == "DEPTH_LIMIT_EXCEEDED"


async def test_too_many_aliases_are_refused(edge_hub: EdgeHub, some_uscc: str) -> None:
    query = "query($u: String!) { enterprise(uscc: $u) { a: name b: name c: name d: name } }"
    async with edge_hub(max_aliases=3) as hub:
        error = refusal_of(await send(hub, query, {"u": some_uscc}))
        assert error["extensions"]["code"] == "ALIAS_LIMIT_EXCEEDED"
        assert "4 aliases" in error["message"] and "max_aliases = 3" in error["message"]


async def test_aliases_in_a_fragment_count_once_per_spread(edge_hub: EdgeHub, some_uscc: str) -> None:
    query = """
    query($u: String!) { enterprise(uscc: $u) { ...Names ... on Enterprise { ...Names } } }
    fragment Names on Enterprise { a: name b: name }
    """
    async with edge_hub(max_aliases=3) as hub:
        error = refusal_of(await send(hub, query, {"u": some_uscc}))
        assert error["extensions"]["code"] == "ALIAS_LIMIT_EXCEEDED"


async def test_a_fragment_bomb_is_refused_at_once(edge_hub: EdgeHub) -> None:
    # Each fragment spreads the next twice: 2**40 aliased fields once expanded, 41 fragments written.
    bomb = "\n".join(f"fragment F{i} on Enterprise {{ n{i}: name ...F{i + 1} ...F{i + 1} }}" for i in range(40))
    query = '{ enterprise(uscc: "x") { ...F0 } }\n' + bomb + "\nfragment F40 on Enterprise { name }"
    async with edge_hub() as hub:
        error = refusal_of(await asyncio.wait_for(send(hub, query), timeout=5))
        assert error["extensions"]["code"] == "ALIAS_LIMIT_EXCEEDED"


async def test_a_document_with_more_tokens_than_max_tokens_is_refused(edge_hub: EdgeHub) -> None:
    query = "{ " + " ".join(f"f{i}: __typename" for i in range(40)) + " }"
    async with edge_hub(max_tokens=50) as hub:
        error = refusal_of(await send(hub, query))
        assert error["extensions"]["code"] == "TOKEN_LIMIT_EXCEEDED"
        assert "max_tokens = 50" in error["message"]


async def test_root_fields_spread_from_fragments_on_query_count_against_max_root_fields(edge_hub: EdgeHub) -> None:
    query = """
    { ...Catalogue ... on Query { c: serviceMatters { code } } }
    fragment Catalogue on Query { a: serviceMatters { code } b: serviceMatters { name } }
    """
    async with edge_hub(max_root_fields=2) as hub:
        error = refusal_of(await send(hub, query))
        assert error["extensions"]["code"] == "ROOT_FIELD_LIMIT_EXCEEDED"
        assert "3 root fields" in error["message"] and "max_root_fields = 2" in error["message"]


async def test_an_operation_over_the_cost_budget_is_refused_with_its_cost(edge_hub: EdgeHub) -> None:
    # enterprises (1) + 10 x [edges (1) + node (1) + licences (1) + 20 x number (1)] = 231
    query = "{ enterprises(first: 10) { edges { node { licences { number } } } } }"
    async with edge_hub(max_cost=200, default_list_size=20) as hub:
        before = hub.all_source_calls()
        error = refusal_of(await send(hub, query))
        assert error["extensions"] == {"code": "COST_LIMIT_EXCEEDED", "cost": 231, "limit": 200}
        assert "231" in error["message"] and "max_cost = 200" in error["message"]
        assert hub.all_source_calls() == before


async def test_a_connection_without_first_costs_its_default_page_size(edge_hub: EdgeHub) -> None:
    # `first` defaults to 20 in the schema: 1 + 20 x 3 = 61, whatever default_list_size says.
    async with edge_hub(max_cost=60, default_list_size=5) as hub:
        error = refusal_of(await send(hub, "{ licences { edges { node { number } } } }"))
        assert error["extensions"]["cost"] == 61


async def test_the_cost_of_first_given_by_a_variable_is_judged_per_request(edge_hub: EdgeHub) -> None:
    query = "query($n: Int!) { licences(first: $n) { edges { node { number } } } }"
    async with edge_hub(max_cost=100) as hub:
        small = await send(hub, query, {"n": 10})  # 1 + 10 x 3 = 31
        assert small.status_code == 200 and "errors" not in small.json()
        error = refusal_of(await send(hub, query, {"n": 50}))  # 1 + 50 x 3 = 151
        assert error["extensions"]["code"] == "COST_LIMIT_EXCEEDED" and error["extensions"]["cost"] == 151


async def test_the_cost_of_first_in_a_fragment_on_query_is_counted(edge_hub: EdgeHub) -> None:
    query = """
    query($n: Int = 50) { ...Page }
    fragment Page on Query { licences(first: $n) { edges { node { number } } } }
    """
    async with edge_hub(max_cost=100) as hub:
        error = refusal_of(await send(hub, query))
        assert error["extensions"]["cost"] == 151


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("query($n: Int!) { licences(first: $n) { edges { cursor } } }", {"n": 100_000}),
        ("query($n: Int!) { ...P } fragment P on Query { licences(first: $n) { edges { cursor } } }", {"n": 1001}),
        ("{ ...P } fragment P on Query { enterprises(first: 5000) { edges { cursor } } }", None),
        ("query($n: Int!) { cases(first: $n) { edges { cursor } } }", {"n": -1}),
    ],
)
async def test_first_beyond_max_page_size_is_refused_through_variables_and_fragments(
    edge_hub: EdgeHub, query: str, variables: dict[str, int] | None
) -> None:
    async with edge_hub() as hub:
        result = await hub.query(query, variables)
        [error] = result["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert "'first'" in error["message"] and "1000" in error["message"]


async def test_limits_are_judged_once_per_cached_document(edge_hub: EdgeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    measured: list[int] = []

    class Counting(documents.Measurer):
        def operation(self, operation):  # type: ignore[no-untyped-def]
            measured.append(1)
            return super().operation(operation)

    monkeypatch.setattr(documents, "Measurer", Counting)
    async with edge_hub() as hub:
        for _ in range(3):
            assert (await hub.query("{ serviceMatters { code } }"))["data"]["serviceMatters"]
        assert len(measured) == 1
        for n in (1, 2):
            await hub.query("query($n: Int!) { licences(first: $n) { edges { cursor } } }", {"n": n})
        assert len(measured) == 1 + 1 + 2  # once for the document, then once per request for its cost


async def test_the_introspection_query_graphiql_sends_is_within_the_default_limits(edge_hub: EdgeHub) -> None:
    query = get_introspection_query(
        descriptions=True, specified_by_url=True, directive_is_repeatable=True, input_value_deprecation=True
    )
    async with edge_hub() as hub:
        result = await hub.query(query)
        assert "errors" not in result and result["data"]["__schema"]["queryType"]
