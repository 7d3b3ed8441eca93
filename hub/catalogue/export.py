"""The catalogue's exports: JSON (the whole catalogue) and CSV (one row per field).

JSON is UTF-8, keys in the records' order, resources by department then name, fields in the
graph's order, scopes by name: the same catalogue always exports to the same bytes, so an export
can be diffed and checked in. CSV follows RFC 4180 (comma, double quotes, CRLF) in UTF-8 with the
departments' Chinese titles as written; a cell that a spreadsheet would run as a formula (starting
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, OWASP "CSV injection") is prefixed
with ``'``, because policy texts such as a legal basis are free text a spreadsheet user opens.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from typing import Any

from hub.catalogue.model import Catalogue, FieldEntry

CSV_COLUMNS = (
    "department", "department_title", "department_title_local", "resource", "field",
    "graphql_name", "graphql_type", "description", "sharing", "scope", "type_scope",
    "mask", "mask_kind", "mask_params", "purposes", "legal_basis", "jurisdiction", "update_cycle",
)  # fmt: skip
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = " "  # purposes are lower_snake_case names: a space never occurs inside one


def to_json(catalogue: Catalogue) -> bytes:
    document: dict[str, Any] = {
        "departments": [dataclasses.asdict(d) for d in catalogue.departments],
        "resources": [dataclasses.asdict(r) for r in catalogue.resources],
        "scopes": [dataclasses.asdict(s) for s in catalogue.scopes],
    }
    if catalogue.fair_use is not None:
        document["fair_use"] = catalogue.fair_use
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


def to_csv(catalogue: Catalogue) -> str:
    out = io.StringIO()
    writer = csv.writer(out, dialect="excel", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CSV_COLUMNS)
    for entry in catalogue.fields():
        writer.writerow([safe_cell(value) for value in _row(catalogue, entry)])
    return out.getvalue()


def safe_cell(value: Any) -> str:
    """The cell's text, with ``'`` before anything a spreadsheet would evaluate as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _row(catalogue: Catalogue, entry: FieldEntry) -> list[Any]:
    department = catalogue.department(entry.department)
    mask = entry.mask
    return [
        department.id,
        department.title,
        department.title_local,
        entry.resource,
        entry.field,
        entry.graphql_name,
        entry.graphql_type,
        entry.description,
        entry.sharing,
        entry.scope,
        entry.type_scope,
        None if mask is None else mask.name,
        None if mask is None else mask.kind,
        None if mask is None or not mask.params else json.dumps(dict(mask.params), ensure_ascii=False),
        LIST_SEPARATOR.join(entry.purposes),
        entry.legal_basis,
        entry.jurisdiction,
        entry.update_cycle,
    ]
