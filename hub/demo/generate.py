"""Deterministic demo data: one SQLite file per department of a Tangshan service centre.

``generate(data_dir, seed=..., enterprises=..., as_of=...)`` writes ``market.sqlite``,
``housing.sqlite``, ``taxation.sqlite``, ``ecology.sqlite``, ``security.sqlite`` and
``centre.sqlite`` from the tables in ``hub.demo.tables`` and returns the row count of every table.

The same (seed, enterprises, as_of) always gives the same rows: every draw comes from one
``random.Random(seed)`` in a fixed order, and every date is relative to ``as_of``. Every identifier
passes ``hub.identifiers``; sizes scale with ``enterprises`` (at 5,000: over 15,000 licences).
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from sqlalchemy import Connection, MetaData, create_engine
from sqlalchemy.schema import CreateIndex, CreateTable

from hub.demo.catalogue import material_rows, matter_rows
from hub.demo.caseload import casework
from hub.demo.context import Ctx
from hub.demo.food import food_licences
from hub.demo.market import Row, abnormal_operations, register_enterprises, retired_representatives
from hub.demo.people import population
from hub.demo.permits import construction_permits, discharge_permits
from hub.demo.tables import DEPARTMENT_METADATA
from hub.demo.taxation import tax_registrations

DEFAULT_SEED = 20261126
# Rows per enterprise; together the three licence kinds come to 3.25 per enterprise.
FOOD_PER_ENTERPRISE = 1.65
CONSTRUCTION_PER_ENTERPRISE = 0.85
DISCHARGE_PER_ENTERPRISE = 0.75
CASES_PER_ENTERPRISE = 1.2
RESIDENTS_PER_ENTERPRISE = 0.2  # people in the population register who never ran a business


def generate(
    data_dir: Path, *, seed: int = DEFAULT_SEED, enterprises: int = 5000, as_of: dt.date | None = None
) -> dict[str, int]:
    """Write the departments' SQLite files into ``data_dir``; return the row count per table."""
    ctx = Ctx(random.Random(seed), as_of or dt.date.today())
    tables = build(ctx, enterprises)
    write(Path(data_dir), tables)
    return {name: len(rows) for name, rows in tables.items()}


def build(ctx: Ctx, count: int) -> dict[str, list[Row]]:
    """Every table's rows, drawn in a fixed order (the order is part of the determinism)."""
    firms, persons, used_ids = register_enterprises(ctx, count)
    licences = {
        "food_licence": food_licences(ctx, firms, round(count * FOOD_PER_ENTERPRISE)),
        "construction_permit": construction_permits(ctx, firms, round(count * CONSTRUCTION_PER_ENTERPRISE)),
        "discharge_permit": discharge_permits(ctx, firms, round(count * DISCHARGE_PER_ENTERPRISE)),
    }
    abnormal = abnormal_operations(ctx, firms)
    taxes = tax_registrations(ctx, firms)
    extra = round(count * RESIDENTS_PER_ENTERPRISE)
    people = population(ctx, persons, retired_representatives(firms), used_ids, extra)
    cases, stages = casework(ctx, firms, licences, abnormal, people, round(count * CASES_PER_ENTERPRISE))
    return {
        "enterprises": firms,
        "persons": persons,
        "food_licences": licences["food_licence"],
        "abnormal_operations": abnormal,
        "construction_permits": licences["construction_permit"],
        "tax_registrations": taxes,
        "discharge_permits": licences["discharge_permit"],
        "population": people,
        "service_matters": matter_rows(),
        "matter_materials": material_rows(),
        "cases": cases,
        "case_stages": stages,
    }


def create_tables(conn: Connection, metadata: MetaData) -> None:
    """What ``metadata.create_all`` does, with indexes in name order: SQLAlchemy keeps a table's
    indexes in a set, whose order follows the process's hash seed, and the files should not."""
    for table in metadata.sorted_tables:
        conn.execute(CreateTable(table))
        for index in sorted(table.indexes, key=lambda index: str(index.name)):
            conn.execute(CreateIndex(index))


def write(data_dir: Path, tables: dict[str, list[Row]]) -> None:
    """One file per department, replaced whole so no row of an earlier run survives."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for department, metadata in DEPARTMENT_METADATA.items():
        path = data_dir / f"{department}.sqlite"
        for stale in (path, path.with_name(path.name + "-journal")):
            stale.unlink(missing_ok=True)
        engine = create_engine(f"sqlite:///{path}")
        try:
            with engine.begin() as conn:
                create_tables(conn, metadata)
                for table in metadata.sorted_tables:
                    # Generator-only keys (prefixed "_") are dropped: only the table's columns are written.
                    columns = table.c.keys()
                    rows = [{column: row.get(column) for column in columns} for row in tables[table.name]]
                    if rows:
                        conn.execute(table.insert(), rows)
        finally:
            engine.dispose()
