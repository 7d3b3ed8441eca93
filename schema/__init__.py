"""The shared graph: each department's part, joined on the entities they share.

``build_schema()`` returns the one strawberry schema the hub serves. Records travel through it as
plain dicts (the raw source records), read by a default resolver that indexes them, so plain
fields cost no Python beyond one lookup.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.schema.config import StrawberryConfig

from schema.common import SCALARS
from schema.centre import Case, CaseStage, ServiceMatter
from schema.ecology import PollutantDischargePermit
from schema.enterprise import Enterprise
from schema.housing import ConstructionPermit
from schema.licence import Licence
from schema.market import FoodBusinessLicence
from schema.person import Person
from schema.query import Query


def read_field(source: Any, name: str) -> Any:
    """Default resolver: records are dicts; anything else (none today) is read as an attribute."""
    if type(source) is dict:
        return source.get(name)
    return getattr(source, name)


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        types=[FoodBusinessLicence, ConstructionPermit, PollutantDischargePermit],
        config=StrawberryConfig(default_resolver=read_field, scalar_map=SCALARS),
    )


__all__ = [
    "Case", "CaseStage", "ConstructionPermit", "Enterprise", "FoodBusinessLicence", "Licence",
    "Person", "PollutantDischargePermit", "Query", "ServiceMatter", "build_schema",
]
