"""Ecology and Environment's part of the graph: pollutant discharge permits (from its REST API)."""

from __future__ import annotations

from typing import Any

import strawberry

from connectors.base import Record
from schema.licence import Licence, type_name_of


def resolve_pollutants(root: Record) -> list[str]:
    return [p for p in root["pollutants"].split(",") if p]


@strawberry.type(description="Pollutant discharge permit (排污许可证), issued by Ecology and Environment.")
class PollutantDischargePermit(Licence):
    site_number: str = strawberry.field(description="The holder's site, 3 digits.")
    site_address: str
    industry_category: str
    management_class: str = strawberry.field(description="重点管理, 简化管理 or 登记管理.")
    pollutants: list[str] = strawberry.field(resolver=resolve_pollutants)

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return type_name_of(obj) == "PollutantDischargePermit"
