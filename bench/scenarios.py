"""The scenarios: each a GraphQL query to the hub and the floor's equivalent request, chosen from the data.

A scenario is a list of request pairs (the hub's GraphQL operation, the floor's path) that the bench
cycles through; scenario B rotates over 50 enterprises so that no single cached row answers it.
Parameters come from the generated data itself (``sqlite3`` on the department files), so they hold
for any seed: the county with the most food licences, enterprises holding all three licence kinds.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROTATION = 50


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    # (GraphQL request body, floor path) pairs, cycled through in order.
    requests: list[tuple[dict[str, Any], str]]


LICENCES = """{ licences(first: 100, kind: FOOD_BUSINESS, region: "%s") { edges { node {
  number validFrom validTo status holder { uscc name legalRepresentative { idNumber name } } } } } }"""

ENTERPRISE = """query Enterprise($uscc: String!) {
  enterprise(uscc: $uscc) { uscc name licences { __typename number validTo status } } }"""

ENTERPRISES = """{ enterprises(first: 1000) { edges { node {
  uscc name status registeredCapital regionCode } } } }"""


def scenarios(data_dir: Path) -> list[Scenario]:
    region, count = food_county(data_dir)
    holders = full_holders(data_dir)
    return [
        Scenario(
            "A", f"100 food licences in {region} ({count} there) + holder + legal representative",
            [({"query": LICENCES % region}, f"/food-licences?region={region}&first=100")],
        ),
        Scenario(
            "B", f"one enterprise + licences of 3 departments (rotating over {len(holders)})",
            [({"query": ENTERPRISE, "variables": {"uscc": u}}, f"/enterprises/{u}") for u in holders],
        ),
        Scenario(
            "C", "1,000 enterprises x 5 fields",
            [({"query": ENTERPRISES}, "/enterprises?first=1000")],
        ),
    ]


def food_county(data_dir: Path) -> tuple[str, int]:
    """The county (a 6-digit code not ending in 00) with the most food licences; at least 100."""
    with closing(sqlite3.connect(data_dir / "market.sqlite")) as db:
        region, count = db.execute(
            "SELECT region_code, count(*) FROM food_licences WHERE region_code NOT LIKE '%00'"
            " GROUP BY region_code ORDER BY count(*) DESC, region_code LIMIT 1"
        ).fetchone()
    if count < 100:
        raise SystemExit(f"bench: no county has 100 food licences (best: {region} with {count})")
    return str(region), int(count)


def full_holders(data_dir: Path) -> list[str]:
    """``ROTATION`` enterprises holding a food licence, a construction permit and a discharge permit."""
    with closing(sqlite3.connect(data_dir / "market.sqlite")) as db:
        db.execute("ATTACH DATABASE ? AS housing", (str(data_dir / "housing.sqlite"),))
        db.execute("ATTACH DATABASE ? AS ecology", (str(data_dir / "ecology.sqlite"),))
        usccs = [row[0] for row in db.execute(
            "SELECT DISTINCT e.uscc FROM enterprises e"
            " JOIN food_licences f ON f.holder_uscc = e.uscc"
            " JOIN housing.construction_permits c ON c.builder_uscc = e.uscc"
            " JOIN ecology.discharge_permits d ON d.holder_uscc = e.uscc ORDER BY e.uscc"
        )]
    if len(usccs) < ROTATION:
        raise SystemExit(f"bench: only {len(usccs)} enterprises hold all three licence kinds")
    step = len(usccs) / ROTATION
    return [usccs[int(i * step)] for i in range(ROTATION)]
