"""Public Security's part of the graph: identity verification against the population base."""

from __future__ import annotations

import strawberry

from connectors.base import Record
from schema.common import Date


@strawberry.type(description="The result of checking a person against Public Security's population data.")
class IdentityVerification:
    verified: bool = strawberry.field(description="Known, the name matches, the ID is in force.")
    found: bool = strawberry.field(description="The ID number is in the population data.")
    name_matches: bool
    status: str | None = strawberry.field(description="Population record status (正常, 注销, 死亡 ...).")
    id_valid_to: Date | None


def verify(person: Record, record: Record | None, today: str) -> Record:
    """Compare a person as another department recorded them with the population record."""
    if record is None:
        return {"verified": False, "found": False, "name_matches": False, "status": None, "id_valid_to": None}
    name_matches = record["name"] == person["name"]
    valid_to = record["id_valid_to"]
    in_force = record["status"] == "正常" and (valid_to is None or valid_to >= today)
    return {
        "verified": name_matches and in_force,
        "found": True,
        "name_matches": name_matches,
        "status": record["status"],
        "id_valid_to": valid_to,
    }
