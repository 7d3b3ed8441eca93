"""Market Regulation's own records beyond registration: food business licences, abnormal list."""

from __future__ import annotations

from typing import Any

import strawberry

from schema.common import Date
from schema.licence import Licence, type_name_of


@strawberry.type(description="Food business licence (食品经营许可证), issued by Market Regulation.")
class FoodBusinessLicence(Licence):
    business_items: str = strawberry.field(description="Licensed business items (经营项目).")
    operating_address: str
    version: str
    related_number: str | None = strawberry.field(description="The licence this one changed or renewed.")
    source_case: str | None = strawberry.field(description="Number of the case that issued it.")

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return type_name_of(obj) == "FoodBusinessLicence"


@strawberry.type(description="An entry in the abnormal-operation list (经营异常名录).")
class AbnormalOperation:
    reason: str
    listed_date: Date
    listing_authority: str
    removed_date: Date | None = strawberry.field(description="Null while the enterprise is still listed.")
    removal_reason: str | None


