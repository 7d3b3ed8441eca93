"""The exports: JSON and CSV that read back to the catalogue they came from, safe in a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path

import pytest
from graphql import GraphQLSchema

from connectors.binding import Binding
from hub.catalogue import CSV_COLUMNS, Catalogue, build_catalogue, load_catalogue, to_csv, to_json
from hub.catalogue.export import safe_cell
from hub.policy import Policies
from hub.policy.loader import DEFAULT_BINDINGS_DIR
from tests.policy.conftest import Edit


@pytest.fixture(scope="module")
def catalogue(graph: GraphQLSchema, policies: Policies, bindings: Mapping[str, Binding]) -> Catalogue:
    return build_catalogue(graph, policies, bindings)


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline=""), strict=True))


def test_the_json_export_reads_back_to_the_catalogue(catalogue: Catalogue) -> None:
    document = json.loads(to_json(catalogue).decode("utf-8"))
    assert list(document) == ["departments", "resources", "scopes"]
    assert [r["name"] for r in document["resources"]] == [r.name for r in catalogue.resources]
    capital = next(
        f
        for r in document["resources"]
        if r["name"] == "Enterprise"
        for f in r["fields"]
        if f["field"] == "registered_capital"
    )
    assert capital["graphql_name"] == "registeredCapital"
    assert capital["mask"] == {
        "name": "capital_band",
        "kind": "amount_band",
        "params": {"edges": [10, 100, 500, 1000, 5000, 10000]},
    }
    assert capital["purposes"] == [
        "case_handling",
        "credit_supervision",
        "licensing",
        "statistics",
        "supervision",
    ]
    assert sum(len(r["fields"]) for r in document["resources"]) == len(catalogue.fields())
    assert {s["scope"]: s["sharing"] for s in document["scopes"]}["taxation.credit:read"] == "conditional"


def test_the_json_export_is_the_same_bytes_every_time_with_chinese_as_written(
    catalogue: Catalogue, graph: GraphQLSchema, policies: Policies, bindings: Mapping[str, Binding]
) -> None:
    again = build_catalogue(graph, policies, bindings)
    assert to_json(again) == to_json(catalogue)
    assert "市场监督管理局".encode() in to_json(catalogue)
    assert b"\\u" not in to_json(catalogue)


def test_the_csv_export_has_one_row_per_field_under_its_header(catalogue: Catalogue) -> None:
    text = to_csv(catalogue)
    assert text.startswith(",".join(CSV_COLUMNS) + "\r\n")
    parsed = rows(text)
    assert len(parsed) == len(catalogue.fields())
    assert [(r["resource"], r["field"]) for r in parsed] == [
        (f.resource, f.field) for f in catalogue.fields()
    ]


def test_a_csv_row_reads_back_to_its_field_with_the_chinese_titles_intact(catalogue: Catalogue) -> None:
    row = next(r for r in rows(to_csv(catalogue)) if (r["resource"], r["field"]) == ("Person", "id_number"))
    assert (row["department"], row["department_title_local"]) == ("market", "市场监督管理局")
    assert (row["graphql_name"], row["sharing"], row["scope"]) == (
        "idNumber",
        "conditional",
        "security.identity:read",
    )
    assert (row["mask"], row["mask_kind"], row["mask_params"]) == ("id_number", "id_number", "")
    assert row["purposes"].split(" ") == ["case_handling", "identity_check", "licensing", "supervision"]
    assert row["update_cycle"] == "on change" and row["legal_basis"] == ""


def test_csv_lines_end_in_crlf_and_cells_with_commas_or_quotes_are_quoted(catalogue: Catalogue) -> None:
    text = to_csv(catalogue)
    assert text.count("\r\n") == len(catalogue.fields()) + 1 and "\n" not in text.replace("\r\n", "")
    capital = next(r for r in rows(text) if r["field"] == "registered_capital")
    assert capital["description"] == "Registered capital, 10,000 CNY."
    assert '"Registered capital, 10,000 CNY."' in text
    assert json.loads(capital["mask_params"]) == {"edges": [10, 100, 500, 1000, 5000, 10000]}


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_a_cell_a_spreadsheet_would_evaluate_is_prefixed_with_a_quote(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["market.enterprise:read", "政府信息公开条例", "", "a=b", "1-2"])
def test_an_ordinary_cell_is_left_as_it_is(text: str) -> None:
    assert safe_cell(text) == text


def test_a_legal_basis_written_as_a_formula_exports_as_text(policy_dir: Path, edit: Edit) -> None:
    edit(
        "centre.toml",
        'legal_basis = "政府信息公开条例',
        "legal_basis = \"=cmd|' /C calc'!A0 政府信息公开条例",
    )
    exported = rows(to_csv(load_catalogue(policy_dir, DEFAULT_BINDINGS_DIR)))
    note = next(r for r in exported if (r["resource"], r["field"]) == ("CaseStage", "note"))
    assert note["legal_basis"].startswith("'=cmd|' /C calc'!A0 政府信息公开条例")
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in exported for cell in row.values())


def test_no_export_carries_a_pseudonym_key(catalogue: Catalogue) -> None:
    key = "demo-only-applicant-pseudonym-key"
    assert key not in to_csv(catalogue) and key.encode() not in to_json(catalogue)
