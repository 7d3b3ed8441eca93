"""A page reads the columns its selection reads: plain fields' record keys, and what the data path needs.

``enterprises(first: 1000) { edges { node { uscc name status registeredCapital regionCode } } }``
needs five of the register's fifteen columns; a look-up by a key of the record (``holder``,
``legalRepresentative``) reads that key; a selection with a resolver of its own (which may read
any key of the record) still reads them all. The key, the order, the row rule's field and the
keys naming the disclosure's subjects are always read, and a record read in part never answers a
later look-up by key in the same request. Licences' pages, one per register, read the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from connectors import SqlConnector
from connectors.base import Condition, Page, Record
from hub.audit.subjects import SUBJECT_KEYS, SUBJECT_OF
from hub.data import Records
from tests.graph.conftest import HubClient

EVERY_COLUMN = ("uscc", "name", "type", "status", "legal_rep_id", "registered_capital", "registration_date",
                "approval_date", "registration_authority", "term_from", "term_to", "business_scope", "address",
                "industry_code", "region_code")


@contextmanager
def statements(hub: HubClient, connector: str) -> Iterator[list[str]]:
    """The SQL statements the department's database is sent meanwhile."""
    sql = hub.hub.sources.connector(connector).inner  # type: ignore[attr-defined]
    assert isinstance(sql, SqlConnector)
    sent: list[str] = []
    stop = sql.observe(lambda statement, parameters: sent.append(statement))
    try:
        yield sent
    finally:
        stop()


def columns_selected(statement: str) -> set[str]:
    listed = " ".join(statement.split()).split(" FROM ", 1)[0].removeprefix("SELECT ")
    return {part.strip().split(" AS ")[-1] for part in listed.split(",")}


class Everyone:
    """An ``Access`` that sees every type, reads ``keys`` and notes nothing: the data path alone."""

    def __init__(self, keys: frozenset[str] | None, row_filter: Condition | None = None) -> None:
        self.keys = keys
        self.rule = row_filter

    def refuse_unseen(self, type_name: str) -> None:
        pass

    def can_see(self, type_name: str) -> bool:
        return True

    def row_filter(self, type_name: str) -> Condition | None:
        return self.rule

    def reads(self, info: Any, type_name: str) -> frozenset[str] | None:
        return self.keys

    def note(self, info: Any, type_name: str, records: Any, subject: Any = None) -> None:
        pass

    def noting(self, info: Any, type_name: str) -> Any:
        return lambda record: None


async def test_a_page_of_plain_fields_reads_their_columns_and_the_key_only(hub: HubClient, demo_db: Any) -> None:
    with statements(hub, "market") as sent:
        result = await hub.query("{ enterprises(first: 3) { edges { node { name status } } } }")
    assert "errors" not in result, result.get("errors")
    expected = demo_db("market", "SELECT name FROM enterprises ORDER BY uscc LIMIT 3")
    assert [e["node"]["name"] for e in result["data"]["enterprises"]["edges"]] == [r["name"] for r in expected]
    [select] = [s for s in sent if "FROM enterprises" in s]
    assert columns_selected(select) == {"uscc", "name", "status"}


async def test_a_page_whose_selection_has_a_look_up_reads_the_look_up_s_key(hub: HubClient, demo_db: Any) -> None:
    with statements(hub, "market") as sent:
        result = await hub.query("{ enterprises(first: 3) { edges { node { name legalRepresentative { name } } } } }")
    assert "errors" not in result, result.get("errors")
    expected = demo_db("market", "SELECT p.name FROM enterprises e JOIN persons p ON p.id_number = e.legal_rep_id "
                                 "ORDER BY e.uscc LIMIT 3")
    got = [e["node"]["legalRepresentative"]["name"] for e in result["data"]["enterprises"]["edges"]]
    assert got == [r["name"] for r in expected]
    [select] = [s for s in sent if "FROM enterprises" in s and "LIMIT" in s]
    assert columns_selected(select) == {"uscc", "name", "legal_rep_id"}


async def test_a_page_whose_selection_has_a_resolver_of_its_own_reads_every_column(hub: HubClient) -> None:
    with statements(hub, "market") as sent:
        result = await hub.query("{ enterprises(first: 3) { edges { node { name licences { number } } } } }")
    assert "errors" not in result, result.get("errors")
    [select] = [s for s in sent if "FROM enterprises" in s and "LIMIT" in s]
    assert columns_selected(select) == set(EVERY_COLUMN)


async def test_a_page_of_licences_reads_their_columns_the_holder_s_key_and_the_subject(
    hub: HubClient, demo_db: Any,
) -> None:
    query = """{ licences(first: 5, kind: FOOD_BUSINESS) { edges { node {
        number validTo holder { name legalRepresentative { name } } } } } }"""
    with statements(hub, "market") as sent:
        result = await hub.query(query)
    assert "errors" not in result, result.get("errors")
    expected = demo_db("market", "SELECT l.number, l.valid_to, e.name FROM food_licences l "
                                 "JOIN enterprises e ON e.uscc = l.holder_uscc ORDER BY l.number LIMIT 5")
    got = [(e["node"]["number"], e["node"]["validTo"], e["node"]["holder"]["name"])
           for e in result["data"]["licences"]["edges"]]
    assert got == [(r["number"], r["valid_to"], r["name"]) for r in expected]
    [select] = [s for s in sent if "FROM food_licences" in s]
    assert columns_selected(select) == {"number", "valid_to", "holder_uscc"}
    [select] = [s for s in sent if "FROM enterprises" in s]
    assert "legal_rep_id" in columns_selected(select)  # a look-up by key reads whole records


async def test_a_record_read_in_part_is_no_answer_to_a_look_up_by_its_key(hub: HubClient, demo_db: Any) -> None:
    records = Records(hub.hub.sources, Everyone(frozenset({"name"})))
    page = await records.list(None, "Enterprise", [], Page("uscc", 3))
    assert [set(r) for r in page] == [{"uscc", "name"}] * 3
    looked_up = await records.one(None, "Enterprise", page[0]["uscc"])
    assert looked_up is not None
    [row] = demo_db("market", "SELECT legal_rep_id, business_scope FROM enterprises WHERE uscc = ?", page[0]["uscc"])
    assert (looked_up["legal_rep_id"], looked_up["business_scope"]) == (row["legal_rep_id"], row["business_scope"])


async def test_a_page_read_in_part_under_a_row_rule_keeps_exactly_the_rows_the_rule_admits(
    hub: HubClient, demo_db: Any
) -> None:
    [prefix_row] = demo_db("market", "SELECT substr(region_code, 1, 4) AS p FROM enterprises "
                                     "GROUP BY p ORDER BY count(*) DESC LIMIT 1")
    prefix = prefix_row["p"]
    rule = Condition("region_code", "prefix", prefix)
    records = Records(hub.hub.sources, Everyone(frozenset({"name"}), rule))
    page = await records.list(None, "Enterprise", [], Page("uscc", 5000))
    expected = demo_db("market", "SELECT uscc FROM enterprises WHERE region_code LIKE ? ORDER BY uscc", prefix + "%")
    assert [r["uscc"] for r in page] == [r["uscc"] for r in expected]
    assert all(r["region_code"].startswith(prefix) for r in page)


def test_the_keys_naming_a_subject_are_enough_to_name_it() -> None:
    whole: Record = {"uscc": "91110000600037341L", "holder_uscc": "91110000600037341L", "id_number": "110101199003074178",
                     "applicant_id_type": "USCC", "applicant_id": "91110000600037341L", "name": "x", "status": "VALID"}
    assert set(SUBJECT_KEYS) == set(SUBJECT_OF)
    for type_name, subject_of in SUBJECT_OF.items():
        found = subject_of(whole)
        assert found is not None
        assert subject_of({k: whole[k] for k in SUBJECT_KEYS[type_name]}) == found, type_name


async def test_a_page_selecting_through_a_union_fragment_reads_what_the_fragment_selects(
    hub: HubClient, demo_db: Any
) -> None:
    # A subgraph's `_Entity` union holds Enterprise: a fragment on it inside a node is executed.
    query = ("{ enterprises(first: 3) { edges { node { __typename "
             "... on _Entity { ... on Enterprise { name legalRepresentative { name } } } } } } }")
    response = await hub.http.post("/subgraphs/market/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    expected = demo_db("market", "SELECT e.name, p.name AS rep FROM enterprises e "
                                 "LEFT JOIN persons p ON p.id_number = e.legal_rep_id ORDER BY e.uscc LIMIT 3")
    assert [e["node"] for e in body["data"]["enterprises"]["edges"]] == [
        {"__typename": "Enterprise", "name": r["name"], "legalRepresentative": r["rep"] and {"name": r["rep"]}}
        for r in expected
    ]
