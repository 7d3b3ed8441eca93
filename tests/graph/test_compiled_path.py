"""The compiled path changes nothing but speed: the same bytes and the same disclosure records.

Every query of the bench, of the README and of the graph and policy test suites (read from their
source) goes to two hubs over the same data, one with ``compiled_execution`` on and one with it off,
as a fully granted caller, a masked one, a jurisdiction-limited one and the development demo's
unrestricted one. The answers must be byte-identical (data, errors with paths and extensions, order
of keys) and the disclosure records the same subjects with the same fields and decisions.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from graphql import (
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLFloat,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    OperationDefinitionNode,
    execute,
    parse,
)
from starlette.requests import Request

from bench.scenarios import ENTERPRISE, ENTERPRISES, LICENCES
from connectors.base import SourceError
from hub.data import Records
from hub.context import ANONYMOUS, Caller
from hub.graphql.compiled import CompiledExecutor, Plans
from hub.policy import full_scope_catalogue
from schema.subgraphs import DEPARTMENTS
from tests.graph.conftest import DepartmentServices, HubClient, hub_settings, open_hub

ROOT = Path(__file__).resolve().parents[2]
SUITES = ("tests/graph", "tests/policy")
PURPOSE = "licensing"
UNMASKING = ("market.finance:read", "security.identity:read", "centre.applicant:read")
# Beyond what the suites ask: masks, __typename, fragments and cursors in long lists.
OWN = [
    """{ enterprises(first: 200) { edges { cursor node { __typename uscc name status registeredCapital
       registrationDate termTo regionCode regionName legalRepresentative { idNumber name birthDate sex } } }
       pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }""",
    """{ licences(first: 150) { edges { node { __typename number status validFrom validTo regionCode
       ... on FoodBusinessLicence { businessItems version } ... on ConstructionPermit { number }
       holder { uscc registeredCapital } } } } }""",
    "{ serviceMatters { code name } }",
    "query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Enterprise { uscc name } } }",
    "{ a: enterprises(first: 3) { edges { node { uscc } } } b: enterprises(first: 3) { edges { node { uscc name } } } }",
    # Look-ups asked a level at a time: aliases, fragments, the same record twice, three departments.
    """{ licences(first: 120, kind: FOOD_BUSINESS) { edges { cursor node { number ...Holder
       again: holder { name legalRepresentative { name } } holder { registeredCapital } } } } }
       fragment Holder on Licence { holder { uscc name legalRepresentative { idNumber name birthDate }
       taxRegistration { status creditGrade } } }""",
    """{ enterprises(first: 150) { edges { node { uscc taxRegistration { status arrears }
       legalRepresentative { __typename name represents { uscc } } } } } }""",
    """{ cases(first: 80) { edges { node { number matter { code name } status } } } }""",
    """{ licences(first: 40) { edges { node { __typename number holder { name }
       ... on FoodBusinessLicence { holder { legalRepresentative { name } } } } } } }""",
    """query($u: String!) { enterprise(uscc: $u) { licences { __typename number holder { name
       legalRepresentative { name } } } represents: legalRepresentative { represents { uscc
       legalRepresentative { idNumber } } } } }""",
]


def suite_queries() -> list[str]:
    """Every string in the graph and policy test modules that is a GraphQL operation."""
    found: dict[str, None] = {}
    for suite in SUITES:
        for module in sorted((ROOT / suite).glob("test_*.py")):
            for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and _is_operation(node.value):
                    found[node.value] = None
    return list(found)


def readme_queries() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    bodies = re.findall(r'\{"query":\s*"((?:[^"\\]|\\.)*)"', text.replace("'", '"'))
    return [body for body in bodies if _is_operation(body)]


def _is_operation(text: str) -> bool:
    if "{" not in text:
        return False
    try:
        return any(isinstance(d, OperationDefinitionNode) for d in parse(text).definitions)
    except Exception:  # noqa: BLE001  not GraphQL: some other string of the module
        return False


@dataclasses.dataclass(frozen=True)
class Samples:
    """Values for the queries' variables, from the demo data."""

    uscc: str
    id_number: str
    licence: str
    case: str
    applicant: str
    region: str

    def variables(self, query: str) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, kind in re.findall(r"\$(\w+)\s*:\s*([\w!\[\]]+)", query):
            values[name] = self._value(name, kind, query)
        return values

    def _value(self, name: str, kind: str, query: str) -> Any:
        if kind.startswith("[_Any"):
            return [{"__typename": "Enterprise", "uscc": self.uscc}, {"__typename": "Person", "idNumber": self.id_number},
                    {"__typename": "FoodBusinessLicence", "number": self.licence}, {"__typename": "Spaceship"}]
        if kind.startswith("Boolean"):
            return False
        if kind.startswith("Int"):
            return 5
        by_name = {"u": self.uscc, "uscc": self.uscc, "i": self.id_number, "id": self.id_number, "r": self.region}
        if name == "n":
            return self.case if "case(" in query else self.licence
        if name == "a":
            return self.applicant if kind.endswith("!") else None
        return by_name.get(name, self.uscc)


@pytest.fixture(scope="module")
def samples(demo_db: Any) -> Samples:
    enterprise = demo_db("market", "SELECT uscc, legal_rep_id, region_code FROM enterprises "
                                   "WHERE legal_rep_id IS NOT NULL ORDER BY uscc LIMIT 1")[0]
    licence = demo_db("market", "SELECT number FROM food_licences ORDER BY number LIMIT 1")[0]["number"]
    case = demo_db("centre", "SELECT number, applicant_id FROM cases ORDER BY number LIMIT 1")[0]
    return Samples(enterprise["uscc"], enterprise["legal_rep_id"], licence, case["number"], case["applicant_id"],
                   enterprise["region_code"][:4] + "00")


def callers(region: str) -> dict[str, Caller]:
    scopes = full_scope_catalogue(ROOT / "connectors" / "departments", ROOT / "policies")

    def caller(name: str, granted: frozenset[str], jurisdiction: str = "") -> Caller:
        return Caller(client_id=name, department="market", scopes=granted, purpose=PURPOSE,
                      grants={s: frozenset({PURPOSE}) for s in granted}, jurisdiction=jurisdiction)

    # Credit supervision sees enterprises but no person: a legal representative looked up is refused.
    credit = dataclasses.replace(caller("credit", scopes), purpose="credit_supervision",
                                 grants={s: frozenset({"credit_supervision"}) for s in scopes})
    return {
        "fully granted": caller("full", scopes),
        "masked": caller("masked", scopes - frozenset(UNMASKING)),
        "jurisdiction-limited": caller("district", scopes, jurisdiction=region[:4]),
        "unrestricted demo": ANONYMOUS,
        "persons refused": credit,
    }


Recorded = list[Any]


def recording(client: HubClient) -> Recorded:
    """The disclosures each request records, as subjects (in order) with their fields and decisions."""
    seen: Recorded = []
    record = client.hub.disclosures.record

    async def noting(request_id: str, caller: Caller, document: str, name: str | None, disclosed: Any) -> int:
        subjects = [(subject, _merged(disclosed, sets)) for subject, sets in disclosed._subjects.items()]
        seen.append((request_id, name, subjects, sorted(disclosed.types)))
        return await record(request_id, caller, document, name, disclosed)

    client.hub.disclosures.record = noting  # type: ignore[method-assign]
    return seen


def _merged(disclosed: Any, sets: set[int]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for index in sorted(sets):
        fields.update(disclosed._field_sets[index])
    return fields


@dataclasses.dataclass
class Pair:
    compiled: HubClient
    usual: HubClient
    compiled_records: Recorded
    usual_records: Recorded
    caller: Caller = ANONYMOUS


@pytest.fixture(scope="module")
async def pair(demo_data_dir: Path, services: DepartmentServices, tmp_path_factory: Any) -> AsyncIterator[Pair]:
    def settings(compiled: bool) -> Any:
        state = tmp_path_factory.mktemp("compiled" if compiled else "usual")
        return hub_settings(demo_data_dir, services.ecology.url, services.security.url,
                            compiled_execution=compiled, state_dir=state)

    chosen: list[Pair] = []

    async def who(request: Request) -> Caller:
        return chosen[0].caller

    async with open_hub(settings(True), authenticate=who) as compiled, \
            open_hub(settings(False), authenticate=who) as usual:
        chosen.append(Pair(compiled, usual, recording(compiled), recording(usual)))
        yield chosen[0]


def every_query(samples: Samples) -> list[tuple[str, dict[str, Any]]]:
    bench = [(LICENCES % samples.region, {}), (ENTERPRISES, {}), (ENTERPRISE, {"uscc": samples.uscc})]
    known = [*readme_queries(), *suite_queries(), *OWN]
    return bench + [(query, samples.variables(query)) for query in known]


def endpoints(query: str) -> list[str]:
    """The graph's endpoint; a federation query (``_entities``, ``_service``) at every department's subgraph too."""
    if "_entities" not in query and "_service" not in query:
        return ["/graphql"]
    return ["/graphql", *(f"/subgraphs/{d}/graphql" for d in DEPARTMENTS)]


def test_the_suites_and_the_readme_give_the_differential_test_its_queries() -> None:
    assert len(suite_queries()) >= 40
    assert readme_queries(), "the README's curl and Python examples are GraphQL operations"


@pytest.mark.parametrize("who", ["fully granted", "masked", "jurisdiction-limited", "unrestricted demo",
                                 "persons refused"])
async def test_both_paths_answer_every_known_query_byte_for_byte_and_record_the_same_disclosures(
    pair: Pair, samples: Samples, who: str,
) -> None:
    pair.caller = callers(samples.region)[who]
    asked = 0
    for number, (query, variables) in enumerate(every_query(samples)):
        for path in endpoints(query):
            request_id = f"differential-{who.replace(' ', '-')}-{number}-{path.split('/')[-2]}"
            body = {"query": query, "variables": variables}
            headers = {"x-request-id": request_id, "accept": "application/graphql-response+json"}
            compiled = await pair.compiled.http.post(path, json=body, headers=headers)
            usual = await pair.usual.http.post(path, json=body, headers=headers)
            assert (compiled.status_code, compiled.content) == (usual.status_code, usual.content), (path, query)
            asked += 1
    assert asked > 80
    assert pair.compiled_records == pair.usual_records
    assert pair.compiled_records, "the queries disclosed something"


async def test_a_list_of_enterprises_with_plain_fields_is_planned_whole_for_the_compiled_path(pair: Pair) -> None:
    pair.caller = ANONYMOUS
    answer = await pair.compiled.query(ENTERPRISES)
    assert len(answer["data"]["enterprises"]["edges"]) > 100
    document = pair.compiled.hub.documents.get(ENTERPRISES, pair.compiled.hub.views.unrestricted.schema)
    plans = document.plans._plans  # type: ignore[union-attr]
    wholly_plain = sorted(key[0] for key, plan in plans.items() if plan.wholly_plain)
    assert wholly_plain == ["Enterprise", "EnterpriseConnection", "EnterpriseEdge"]


async def test_a_list_s_look_ups_are_asked_a_level_at_a_time_not_resolved_one_by_one(
    pair: Pair, samples: Samples, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The bench's A: 100 licences' holders and their legal representatives, no resolver call per record."""
    pair.caller = callers(samples.region)["fully granted"]
    one_by_one: list[str] = []
    one = Records.one

    async def counted(self: Records, info: Any, type_name: str, key: Any, **kwargs: Any) -> Any:
        one_by_one.append(type_name)
        return await one(self, info, type_name, key, **kwargs)

    monkeypatch.setattr(Records, "one", counted)
    query = LICENCES % samples.region
    answer = await pair.compiled.query(query)
    holders = [edge["node"]["holder"] for edge in answer["data"]["licences"]["edges"]]
    assert holders and all(h["legalRepresentative"] for h in holders if h["legalRepresentative"] is not None)
    assert one_by_one == []
    await pair.usual.query(query)
    assert one_by_one.count("Enterprise") == len(holders)


async def test_a_list_of_licences_of_three_kinds_is_completed_by_the_plans_kept_from_the_request_before(
    pair: Pair, samples: Samples, demo_db: Any,
) -> None:
    """The bench's B, again and again: each licence kind's plan is kept with the document's plans after
    the first request, and every later answer and disclosure record is the usual path's, byte for byte."""
    holders = [row["holder_uscc"] for row in demo_db(
        "market", "SELECT holder_uscc FROM food_licences GROUP BY holder_uscc ORDER BY holder_uscc LIMIT 4")]
    for who in ("fully granted", "masked", "jurisdiction-limited"):
        pair.caller = callers(samples.region)[who]
        for round_ in range(2):
            for n, uscc in enumerate(holders):
                request_id = f"kept-plans-{who.replace(' ', '-')}-{round_}-{n}"
                body = {"query": ENTERPRISE, "variables": {"uscc": uscc}}
                headers = {"x-request-id": request_id, "accept": "application/graphql-response+json"}
                compiled = await pair.compiled.http.post("/graphql", json=body, headers=headers)
                usual = await pair.usual.http.post("/graphql", json=body, headers=headers)
                assert (compiled.status_code, compiled.content) == (usual.status_code, usual.content), who
                assert pair.compiled_records[-1] == pair.usual_records[-1], who
        view = pair.compiled.hub.views.for_caller(pair.caller)
        plans = pair.compiled.hub.documents.get(ENTERPRISE, view.schema).plans
        assert plans is not None
        kept = sorted(key[1] for key in plans._runtime)
        if who != "jurisdiction-limited":  # outside the district, the enterprise (and its licences) is withheld
            assert "FoodBusinessLicence" in kept, who


async def _both(pair: Pair, query: str, request_id: str) -> bytes:
    body = {"query": query}
    headers = {"x-request-id": request_id, "accept": "application/graphql-response+json"}
    compiled = await pair.compiled.http.post("/graphql", json=body, headers=headers)
    usual = await pair.usual.http.post("/graphql", json=body, headers=headers)
    assert (compiled.status_code, compiled.content) == (usual.status_code, usual.content)
    assert pair.compiled_records[-1] == pair.usual_records[-1]
    return compiled.content


async def _clear_caches(pair: Pair) -> None:
    for client in (pair.compiled, pair.usual):
        await client.hub.sources.cache.clear()


async def test_a_department_failing_under_a_list_s_look_ups_is_reported_as_graphql_core_reports_it(
    pair: Pair, samples: Samples, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Taxation down: each enterprise's tax registration null with its error; the rest (persons too) as before."""
    for client in (pair.compiled, pair.usual):
        async def down(entity: str, field: str, keys: Any) -> Any:
            raise SourceError("taxation", "provider", "connection refused")

        monkeypatch.setattr(client.hub.sources.connectors["taxation"], "fetch", down)
        # No circuit breaker: it would open at its own moment in each hub, and its message says when.
        monkeypatch.setattr(client.hub.sources, "breakers", {})
    await _clear_caches(pair)
    try:
        for who in ("fully granted", "masked", "jurisdiction-limited"):
            pair.caller = callers(samples.region)[who]
            content = await _both(pair, """{ enterprises(first: 40) { edges { node { uscc name
                taxRegistration { status } legalRepresentative { name } } } } }""", f"taxation-down-{who.replace(' ', '-')}")
            answer = orjson.loads(content)
            assert answer["errors"][0]["extensions"]["code"] == "SOURCE_UNAVAILABLE"
            assert answer["errors"][0]["path"][-1] == "taxRegistration"
            assert any(e["node"]["legalRepresentative"] for e in answer["data"]["enterprises"]["edges"])
            # The second level failing: every holder found, each holder's tax registration not.
            content = await _both(pair, """{ licences(first: 30, kind: FOOD_BUSINESS) { edges { node { number
                holder { uscc taxRegistration { creditGrade } legalRepresentative { name } } } } } }""",
                                  f"taxation-down-second-level-{who.replace(' ', '-')}")
            answer = orjson.loads(content)
            assert [e["path"][-1] for e in answer["errors"]] == ["taxRegistration"] * len(answer["errors"])
            assert any(e["node"]["holder"] for e in answer["data"]["licences"]["edges"])
    finally:
        monkeypatch.undo()
        await _clear_caches(pair)


async def test_missing_and_row_filtered_records_under_a_list_s_look_ups_are_null_and_not_noted(
    pair: Pair, samples: Samples, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Holders the register lacks (every third), outside the caller's jurisdiction (every fifth) or without
    the name the graph requires (every seventh): null, the last with an error."""
    for client in (pair.compiled, pair.usual):
        market = client.hub.sources.connectors["market"]

        async def thinned(entity: str, field: str, keys: Any, fetch: Any = market.fetch) -> Any:
            found = await fetch(entity, field, keys)
            if entity != "enterprise":
                return found
            kept = [dict(r) for r in sorted(found, key=lambda r: r["uscc"]) if int(r["uscc"][-3:-1], 36) % 3]
            for record in kept[::5]:
                record["region_code"] = "999999"
            for record in kept[1::7]:
                record["name"] = None  # a register's record without its name: an error where it is shown
            return kept

        monkeypatch.setattr(market, "fetch", thinned)
    await _clear_caches(pair)
    try:
        for who in ("fully granted", "jurisdiction-limited"):
            pair.caller = callers(samples.region)[who]
            content = await _both(pair, LICENCES % samples.region, f"thinned-{who.replace(' ', '-')}")
            answer = orjson.loads(content)
            holders = [e["node"]["holder"] for e in answer["data"]["licences"]["edges"]]
            assert None in holders and any(h is not None for h in holders)
            assert {e["path"][-1] for e in answer["errors"]} == {"name"}
            if who == "jurisdiction-limited":
                assert all(h is None or h["uscc"] for h in holders)
    finally:
        monkeypatch.undo()
        await _clear_caches(pair)


async def test_look_ups_all_withheld_by_the_row_rule_note_nothing_and_show_no_type(
    pair: Pair, samples: Samples, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every holder outside the caller's jurisdiction: each is null, and neither path notes a field
    set or a type for the holders (nor for the legal representatives no holder led to)."""
    for client in (pair.compiled, pair.usual):
        market = client.hub.sources.connectors["market"]

        async def elsewhere(entity: str, field: str, keys: Any, fetch: Any = market.fetch) -> Any:
            found = await fetch(entity, field, keys)
            if entity != "enterprise":
                return found
            return [{**record, "region_code": "999999"} for record in found]

        monkeypatch.setattr(market, "fetch", elsewhere)
    await _clear_caches(pair)
    try:
        pair.caller = callers(samples.region)["jurisdiction-limited"]
        content = await _both(pair, LICENCES % samples.region, "holders-elsewhere")
        holders = [e["node"]["holder"] for e in orjson.loads(content)["data"]["licences"]["edges"]]
        assert holders and all(h is None for h in holders)
        types = pair.compiled_records[-1][3]
        assert "Enterprise" not in types and "Person" not in types
    finally:
        monkeypatch.undo()
        await _clear_caches(pair)


# -- the fallback, on a schema whose records break the rules ---------------------------------------


def _reader(key: str) -> Callable[..., Any]:
    def read(source: Any, info: Any) -> Any:
        return source.get(key) if type(source) is dict else getattr(source, key)

    read.record_key = key  # type: ignore[attr-defined]
    return read


def _rules_breaking_schema() -> GraphQLSchema:
    kind = GraphQLEnumType("Kind", {"SMALL": "small", "LARGE": "large"})
    part = GraphQLObjectType("Part", lambda: {
        "name": GraphQLField(GraphQLNonNull(GraphQLString), resolve=_reader("name")),
        "weight": GraphQLField(GraphQLFloat, resolve=_reader("weight")),
    })
    item = GraphQLObjectType("Item", lambda: {
        "id": GraphQLField(GraphQLNonNull(GraphQLString), resolve=_reader("id")),
        "size": GraphQLField(GraphQLFloat, resolve=_reader("size")),
        "count": GraphQLField(GraphQLInt, resolve=_reader("count")),
        "tags": GraphQLField(GraphQLList(GraphQLNonNull(GraphQLString)), resolve=_reader("tags")),
        "kind": GraphQLField(kind, resolve=_reader("kind")),
        "open": GraphQLField(GraphQLBoolean, resolve=_reader("open")),
        "main": GraphQLField(part, resolve=_reader("main")),
        "parts": GraphQLField(GraphQLList(GraphQLNonNull(part)), resolve=_reader("parts")),
        "spares": GraphQLField(GraphQLNonNull(GraphQLList(part)), resolve=_reader("spares")),
    })
    records = [
        {"id": "a", "size": 1.5, "count": 1, "tags": ["x"], "kind": "small", "open": True,
         "main": {"name": "m", "weight": 1.0}, "parts": [{"name": "p", "weight": 2}], "spares": [None]},
        {"id": None, "size": 2.0, "count": 2, "tags": [], "kind": "large", "open": False,
         "main": None, "parts": None, "spares": []},  # null in a non-null field
        {"id": "c", "size": "large", "count": 3, "tags": None, "kind": "huge", "open": 1,
         "main": "not a record", "parts": [None], "spares": None},  # a Float that is not a number, no such Kind
        {"id": "d", "size": float("inf"), "count": 2**40, "tags": ["y", None], "kind": None, "open": None,
         "main": {"name": None}, "parts": [{"name": "q", "weight": float("nan")}],
         "spares": [{"name": "s", "weight": "heavy"}]},  # an infinite Float, an Int too large, a null tag
        {"id": "e", "size": 5.0, "count": 5, "tags": {"not": "a list"}, "kind": "small", "open": "yes",
         "main": {"name": "n", "weight": True}, "parts": ("a", "tuple"), "spares": [{"name": "t"}, None]},
        {"id": "f", "size": 6, "count": 6.0, "tags": ["z"], "kind": "large", "open": False,
         "main": {"name": "o", "weight": -0.0}, "parts": [], "spares": [{"name": "u", "weight": 1e308}]},
    ]
    query = GraphQLObjectType("Query", {
        "items": GraphQLField(GraphQLList(item), args={"upTo": GraphQLArgument(GraphQLInt)},
                              resolve=lambda _root, _info, upTo=6: records[:upTo]),
        "strict": GraphQLField(GraphQLNonNull(GraphQLList(GraphQLNonNull(item))), resolve=lambda *_: records[:2]),
    })
    return GraphQLSchema(query)


@pytest.mark.parametrize("query", [
    "{ items(upTo: 1) { id size count tags } }",
    "{ items { id size count tags } }",
    "{ items { count id } strict { id } }",
    "{ items { __typename tags } }",
    "{ items(upTo: 2) { id kind open main { name weight } parts { name } spares { name weight } } }",
    "{ items { kind } }",
    "{ items { open } }",
    "{ items { size } }",
    "{ items { count } }",
    "{ items { main { name weight } } }",
    "{ items { main { weight } } }",
    "{ items { parts { name weight } } }",
    "{ items { spares { weight } } }",
    "{ items { spares { name } } }",
])
def test_records_that_break_the_rules_are_reported_exactly_as_graphql_core_reports_them(query: str) -> None:
    schema = _rules_breaking_schema()
    document = parse(query)
    usual = execute(schema, document)
    compiled = execute(schema, document, executor_class=CompiledExecutor, plans=Plans(document))
    assert compiled.data == usual.data  # type: ignore[union-attr]
    assert [e.formatted for e in compiled.errors or ()] == [e.formatted for e in usual.errors or ()]  # type: ignore[union-attr]
