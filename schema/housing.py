"""Housing and Urban-Rural Development's part of the graph: construction permits."""

from __future__ import annotations

from typing import Any

import strawberry

from schema.licence import Licence, type_name_of


@strawberry.type(description="Construction permit (建筑工程施工许可证), issued by Housing.")
class ConstructionPermit(Licence):
    project_name: str
    project_address: str
    contract_price: float = strawberry.field(description="Contract price, 10,000 CNY.")
    floor_area: float = strawberry.field(description="Floor area, square metres.")

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return type_name_of(obj) == "ConstructionPermit"
