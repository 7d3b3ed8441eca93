"""A look-up by key and its selection's records related by that key: asked in one source round.

``enterprise(uscc:) { licences { ... } }``: the licences are asked by ``holder_uscc = uscc``, known
before the enterprise arrives, so the compiled path starts them with it
(``hub.graphql.compiled.prefetch``). What is shown and noted is as before: a related record only
under a parent that arrived and was admitted; a parent not found, withheld or failed drops them
unseen (their source calls are what it costs); bad input and types the caller may not see ask nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request

from hub.context import Caller
from hub.demo import ecology_service
from hub.demo.services import serve_in_thread
from hub.identifiers.uscc import uscc_check_char
from hub.policy import full_scope_catalogue
from tests.graph.conftest import DepartmentServices, HubClient, hub_settings, open_hub

ROOT = Path(__file__).resolve().parents[2]
PURPOSE = "licensing"
LICENCES = """
query($u: String!) {
  enterprise(uscc: $u) { uscc name licences { __typename number validTo status } }
}
"""
WIDE = """
query($u: String!) {
  enterprise(uscc: $u) {
    name
    taxRegistration { creditGrade }
    foodLicences { number }
    constructionPermits { number }
    dischargePermits { number }
    abnormalOperations { reason }
  }
}
"""
TWICE = """
query($u: String!) { enterprise(uscc: $u) { name foodLicences { number } held: licences { number } } }
"""
CASE = """
query($n: String!) { case(number: $n) { number stages { seq stage } } }
"""
RELATED = {("market", "food_licence"), ("housing", "construction_permit"), ("ecology", "discharge_permit")}


@dataclasses.dataclass
class Calls:
    """Every department call the hub makes, in order: ``("start" | "end", connector, entity)``."""

    events: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)

    def started(self) -> set[tuple[str, str]]:
        return {(c, e) for kind, c, e in self.events if kind == "start"}

    def started_before_end_of(self, connector: str, entity: str) -> set[tuple[str, str]]:
        """The calls that started before ``connector.entity``'s call ended."""
        end = self.events.index(("end", connector, entity))
        return {(c, e) for kind, c, e in self.events[:end] if kind == "start"}


def watch(client: HubClient, monkeypatch: pytest.MonkeyPatch, hold: tuple[str, str] | None = None) -> Calls:
    """Record every fetch of every department. ``hold``: that call's answer waits (2 s at most) until
    another department's call has started, so the order does not hang on which source answers first."""
    calls = Calls()
    other_started = asyncio.Event()
    for name, connector in client.hub.sources.connectors.items():

        async def fetch(entity: str, field: str, keys: Any, name: str = name, original: Any = connector.fetch) -> Any:
            calls.events.append(("start", name, entity))
            if (name, entity) != hold:
                other_started.set()
            try:
                found = await original(entity, field, keys)
                if (name, entity) == hold:
                    try:
                        await asyncio.wait_for(other_started.wait(), 2.0)
                    except TimeoutError:
                        pass  # nothing else asked meanwhile: the order shows it
                return found
            finally:
                calls.events.append(("end", name, entity))

        monkeypatch.setattr(connector, "fetch", fetch)
    return calls


def fresh_uscc(demo_db: Any) -> str:
    """A well-formed USCC that no enterprise of the demo data has."""
    known = {r["uscc"] for r in demo_db("market", "SELECT uscc FROM enterprises")}
    for serial in range(100000000, 100001000):
        first17 = f"91130200{serial}"[:17]
        uscc = first17 + uscc_check_char(first17)
        if uscc not in known:
            return uscc
    raise AssertionError("no free USCC")


def holder_of_every_kind(demo_db: Any) -> dict[str, Any]:
    """An enterprise holding a licence of each of the three kinds, with its region code."""
    food = {r["holder_uscc"] for r in demo_db("market", "SELECT holder_uscc FROM food_licences")}
    built = {r["holder_uscc"] for r in demo_db("housing", "SELECT builder_uscc AS holder_uscc FROM construction_permits")}
    eco = [r["holder_uscc"] for r in demo_db("ecology", "SELECT holder_uscc FROM discharge_permits ORDER BY 1")]
    uscc = next(u for u in eco if u in food and u in built)
    return demo_db("market", "SELECT uscc, region_code FROM enterprises WHERE uscc = ?", uscc)[0]


def scopes() -> frozenset[str]:
    return full_scope_catalogue(ROOT / "connectors" / "departments", ROOT / "policies")


def caller(granted: frozenset[str], jurisdiction: str = "", purpose: str = PURPOSE) -> Caller:
    return Caller(client_id="prefetch-test", department="market", scopes=granted, purpose=purpose,
                  grants={s: frozenset({purpose}) for s in granted}, jurisdiction=jurisdiction)


@dataclasses.dataclass
class Setup:
    client: HubClient
    noted: list[list[Any]]  # per request: the subjects its disclosure record names, in order
    who: list[Caller]


def noting(client: HubClient) -> list[list[Any]]:
    noted: list[list[Any]] = []
    record = client.hub.disclosures.record

    async def recorded(request_id: str, caller: Caller, document: str, name: str | None, disclosed: Any) -> int:
        noted.append(list(disclosed._subjects))
        return await record(request_id, caller, document, name, disclosed)

    client.hub.disclosures.record = recorded  # type: ignore[method-assign]
    return noted


@pytest.fixture
async def granted(demo_data_dir: Path, services: DepartmentServices, tmp_path: Path) -> AsyncIterator[Setup]:
    """A hub without its entity cache, asked by a caller the test chooses (fully granted first)."""
    who = [caller(scopes())]

    async def authenticate(request: Request) -> Caller:
        return who[0]

    settings = hub_settings(demo_data_dir, services.ecology.url, services.security.url, state_dir=tmp_path,
                            sources={"market": {"cache_ttl": 0}, "housing": {"cache_ttl": 0},
                                     "ecology": {"url": services.ecology.url, "cache_ttl": 0}})
    async with open_hub(settings, authenticate=authenticate) as client:
        yield Setup(client, noting(client), who)


def calls_of(client: HubClient) -> Callable[[], dict[tuple[str, str], float]]:
    before = client.all_source_calls()

    def made() -> dict[tuple[str, str], float]:
        return {k: v - before.get(k, 0) for k, v in client.all_source_calls().items() if v - before.get(k, 0)}

    return made


async def asked_with_the_enterprise(
    hub: HubClient, monkeypatch: pytest.MonkeyPatch, document: str, uscc: str, related: set[tuple[str, str]],
) -> dict[str, Any]:
    """The answer to ``document`` for ``uscc``, having checked that every register of ``related`` was
    asked before the enterprise's own call ended, and each of them, and the enterprise, once."""
    calls = watch(hub, monkeypatch, hold=("market", "enterprise"))
    made = calls_of(hub)
    result: dict[str, Any] = await hub.query(document, {"u": uscc})
    assert "errors" not in result, result.get("errors")
    assert related <= calls.started_before_end_of("market", "enterprise"), calls.events
    assert made() == {("market", "enterprise"): 1, **{r: 1 for r in related}}, "one call per department"
    return result


async def test_an_enterprise_s_licences_are_asked_in_the_same_round_as_the_enterprise(
    granted: Setup, demo_db: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    uscc = holder_of_every_kind(demo_db)["uscc"]
    result = await asked_with_the_enterprise(granted.client, monkeypatch, LICENCES, uscc, RELATED)
    numbers = {licence["number"] for licence in result["data"]["enterprise"]["licences"]}
    expected = {r["number"] for department, sql in (
        ("market", "SELECT number FROM food_licences WHERE holder_uscc = ?"),
        ("housing", "SELECT permit_no AS number FROM construction_permits WHERE builder_uscc = ?"),
        ("ecology", "SELECT permit_number AS number FROM discharge_permits WHERE holder_uscc = ?"),
    ) for r in demo_db(department, sql, uscc)}
    assert numbers == expected and len({n[:2] for n in numbers}) > 1
    subjects = granted.noted[-1]
    assert subjects == [("enterprise", uscc)], "the enterprise, the subject of its licences too"


async def test_every_field_related_by_the_key_is_asked_with_it_and_each_register_once(
    granted: Setup, demo_db: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    uscc = holder_of_every_kind(demo_db)["uscc"]
    related = RELATED | {("taxation", "tax_registration"), ("market", "abnormal_operation")}
    result = await asked_with_the_enterprise(granted.client, monkeypatch, WIDE, uscc, related)
    enterprise = result["data"]["enterprise"]
    assert enterprise["foodLicences"] and enterprise["constructionPermits"] and enterprise["dischargePermits"]


async def test_two_fields_reading_one_register_by_the_key_cost_one_call(
    granted: Setup, demo_db: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = granted.client
    calls = watch(hub, monkeypatch, hold=("market", "enterprise"))
    made = calls_of(hub)
    result = await hub.query(TWICE, {"u": holder_of_every_kind(demo_db)["uscc"]})
    assert "errors" not in result, result.get("errors")
    assert RELATED <= calls.started_before_end_of("market", "enterprise"), calls.events
    assert made() == {("market", "enterprise"): 1, **{r: 1 for r in RELATED}}
    enterprise = result["data"]["enterprise"]
    assert {f["number"] for f in enterprise["foodLicences"]} < {h["number"] for h in enterprise["held"]}


async def test_a_case_s_stages_are_asked_with_the_case(
    granted: Setup, demo_db: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = granted.client
    number = demo_db("centre", "SELECT case_number FROM case_stages ORDER BY 1 LIMIT 1")[0]["case_number"]
    granted.who[0] = caller(scopes(), purpose="case_handling")
    calls = watch(hub, monkeypatch, hold=("centre", "case"))
    result = await hub.query(CASE, {"n": f"  {number} "})
    assert "errors" not in result, result.get("errors")
    assert ("centre", "case_stage") in calls.started_before_end_of("centre", "case"), calls.events
    stages = result["data"]["case"]["stages"]
    assert stages and [s["seq"] for s in stages] == sorted(s["seq"] for s in stages)


async def test_an_enterprise_not_found_shows_and_notes_nothing_and_its_prefetch_is_its_cost(
    granted: Setup, demo_db: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = granted.client
    calls = watch(hub, monkeypatch)
    made = calls_of(hub)
    result = await hub.query(WIDE, {"u": fresh_uscc(demo_db)})
    assert result == {"data": {"enterprise": None}}
    assert granted.noted[-1] == [], "no licence, tax registration or anything else disclosed"
    assert ("market", "enterprise") in calls.started()
    # The related loads went with the look-up: asked, then dropped unseen.
    assert made()[("market", "enterprise")] == 1
    assert set(made()) - {("market", "enterprise")} <= RELATED | {
        ("taxation", "tax_registration"), ("market", "abnormal_operation")}


async def test_an_enterprise_outside_the_caller_s_jurisdiction_shows_and_notes_none_of_its_records(
    granted: Setup, demo_db: Any,
) -> None:
    hub = granted.client
    holder = holder_of_every_kind(demo_db)
    elsewhere = "13" if not holder["region_code"].startswith("13") else "11"
    granted.who[0] = caller(scopes(), jurisdiction=elsewhere)
    result = await hub.query(WIDE, {"u": holder["uscc"]})
    assert result == {"data": {"enterprise": None}}
    assert granted.noted[-1] == []

    granted.who[0] = caller(scopes(), jurisdiction=holder["region_code"][:4])
    inside = await hub.query(WIDE, {"u": holder["uscc"]})
    assert "errors" not in inside and inside["data"]["enterprise"]["foodLicences"]
    assert ("enterprise", holder["uscc"]) in granted.noted[-1]


async def test_a_licence_register_the_caller_may_not_see_is_not_asked(
    granted: Setup, demo_db: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = granted.client
    granted.who[0] = caller(scopes() - {"ecology.discharge_permit:read"})
    calls = watch(hub, monkeypatch)
    result = await hub.query(LICENCES, {"u": holder_of_every_kind(demo_db)["uscc"]})
    assert "errors" not in result, result.get("errors")
    assert ("ecology", "discharge_permit") not in calls.started()
    assert all(not n["number"].endswith("P") for n in result["data"]["enterprise"]["licences"])
    assert ("market", "food_licence") in calls.started()


@pytest.mark.parametrize("uscc", ["91130200MA0000000", "not-a-uscc", "91130200MA00000000", ""])
async def test_a_bad_uscc_asks_no_department(granted: Setup, monkeypatch: pytest.MonkeyPatch, uscc: str) -> None:
    hub = granted.client
    calls = watch(hub, monkeypatch)
    result = await hub.query(WIDE, {"u": uscc})
    assert result["data"] == {"enterprise": None}
    assert [e["extensions"]["code"] for e in result["errors"]] == ["BAD_USER_INPUT"]
    assert calls.events == []


async def test_an_enterprise_whose_look_up_fails_shows_none_of_its_records(
    granted: Setup, demo_db: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = granted.client
    market = hub.hub.sources.connectors["market"]

    async def failing(entity: str, field: str, keys: Any, original: Any = market.fetch) -> Any:
        if entity == "enterprise":
            raise ConnectionError("market register unreachable")
        return await original(entity, field, keys)

    monkeypatch.setattr(market, "fetch", failing)
    result = await hub.query(LICENCES, {"u": holder_of_every_kind(demo_db)["uscc"]})
    assert result["data"] == {"enterprise": None}
    assert [e["path"] for e in result["errors"]] == [["enterprise"]]
    assert result["errors"][0]["extensions"]["code"] == "SOURCE_UNAVAILABLE"


@pytest.fixture
async def own_ecology(demo_data_dir: Path, services: DepartmentServices, tmp_path: Path) -> AsyncIterator[Any]:
    """Two hubs (compiled path on and off) over an Ecology service this test may stop."""
    ecology = serve_in_thread(ecology_service.create_app(demo_data_dir / "ecology.sqlite"))

    def settings(compiled: bool) -> Any:
        return hub_settings(demo_data_dir, ecology.url, services.security.url, compiled_execution=compiled,
                            state_dir=tmp_path / str(compiled), sources={"ecology": {"url": ecology.url, "cache_ttl": 0}})

    async with open_hub(settings(True)) as compiled, open_hub(settings(False)) as usual:
        yield compiled, usual, ecology
    ecology.stop()


async def test_a_failing_licensing_department_is_a_partial_error_as_on_the_usual_path(
    own_ecology: Any, demo_db: Any,
) -> None:
    compiled, usual, ecology = own_ecology
    uscc = holder_of_every_kind(demo_db)["uscc"]
    ecology.stop()
    answers = [await hub.query(LICENCES, {"u": uscc}) for hub in (compiled, usual)]
    for answer in answers:
        for error in answer["errors"]:
            error["extensions"].pop("requestId")
    assert answers[0] == answers[1]
    answer = answers[0]
    assert [e["path"] for e in answer["errors"]] == [["enterprise", "licences"]]
    assert answer["errors"][0]["extensions"]["department"] == "ecology"
    licences = answer["data"]["enterprise"]["licences"]
    assert licences and not any(n["number"].endswith("P") for n in licences)


TWO = """
query($x: String!, $y: String!) {
  x: enterprise(uscc: $x) { uscc foodLicences { number } }
  y: enterprise(uscc: $y) { uscc foodLicences { number } }
}
"""


def food_holders_in_two_regions(demo_db: Any) -> tuple[str, str, str]:
    """Two food licence holders of different districts: (x, y, y's district)."""
    rows = demo_db("market", "SELECT DISTINCT e.uscc, e.region_code FROM enterprises e "
                             "JOIN food_licences f ON f.holder_uscc = e.uscc ORDER BY e.uscc")
    y = rows[0]
    x = next(r for r in rows if r["region_code"] != y["region_code"])
    return x["uscc"], y["uscc"], y["region_code"]


async def test_a_withheld_parent_s_failing_prefetch_is_no_error_of_another_parent_s_records(
    granted: Setup, demo_db: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The licences of an enterprise outside the caller's jurisdiction are never asked on the usual
    path; prefetched, their load must not share a source call with an admitted enterprise's own, or
    a failure on the withheld one's records (a row the department cannot give) surfaces as an error
    of the admitted one's licences."""
    hub = granted.client
    x, y, region = food_holders_in_two_regions(demo_db)
    granted.who[0] = caller(scopes(), jurisdiction=region)
    market = hub.hub.sources.connectors["market"]
    asked: list[list[str]] = []

    async def failing_on_x(entity: str, field: str, keys: Any, original: Any = market.fetch) -> Any:
        if entity == "food_licence":
            asked.append(sorted(keys))
            if x in keys:
                raise ConnectionError("a food licence row of this holder cannot be read")
        return await original(entity, field, keys)

    monkeypatch.setattr(market, "fetch", failing_on_x)
    result = await hub.query(TWO, {"x": x, "y": y})
    assert "errors" not in result, (result.get("errors"), asked)
    assert result["data"]["x"] is None
    assert result["data"]["y"]["uscc"] == y and result["data"]["y"]["foodLicences"]
    assert [("enterprise", y)] == [s for s in granted.noted[-1] if s[0] == "enterprise"]
    assert sorted(asked) == sorted([sorted([x, y]), [x], [y]]), "together, then each alone once that failed"


async def test_the_related_records_of_several_look_ups_are_asked_in_one_call(
    granted: Setup, demo_db: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = granted.client
    x, y, _ = food_holders_in_two_regions(demo_db)
    calls = watch(hub, monkeypatch)
    made = calls_of(hub)
    result = await hub.query(TWO, {"x": x, "y": y})
    assert "errors" not in result, result.get("errors")
    assert result["data"]["x"]["foodLicences"] and result["data"]["y"]["foodLicences"]
    assert made()[("market", "food_licence")] == 1, calls.events
