"""Enterprise, keyed by USCC: registered by Market Regulation, with fields other departments contribute.

Each field that another department contributes is resolved through that department's loader, so
asking for 1,000 enterprises' tax grades is one call to Taxation, whatever the query's shape.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from connectors.base import Record
from hub.identifiers import LicenceKind as Kind
from hub.identifiers import division_name
from schema.common import Date, look_up, records, related
from schema.licence import LICENCE_TYPES, Licence, licences_of_holder
from schema.market import AbnormalOperation
from schema.taxation import TaxRegistration

if TYPE_CHECKING:
    from schema.centre import Case
    from schema.ecology import PollutantDischargePermit
    from schema.housing import ConstructionPermit
    from schema.market import FoodBusinessLicence
    from schema.person import Person



@strawberry.enum(description="Registration status (登记状态).")
class EnterpriseStatus(enum.Enum):
    IN_OPERATION = "IN_OPERATION"
    REVOKED = "REVOKED"
    DEREGISTERED = "DEREGISTERED"
    MOVED_OUT = "MOVED_OUT"


resolve_legal_representative = look_up("Person", "legal_rep_id")
resolve_tax_registration = look_up("TaxRegistration", "uscc")


@related("uscc", ("AbnormalOperation", "uscc"))
async def resolve_abnormal_operations(root: Record, info: Info) -> list[Record] | None:
    return await records(info).many(info, "AbnormalOperation", "uscc", root["uscc"])


@related("uscc", *((LICENCE_TYPES[kind], "holder_uscc") for kind in Kind))
async def resolve_licences(root: Record, info: Info) -> list[Record]:
    return await licences_of_holder(info, root["uscc"], tuple(Kind))


@related("uscc", ("FoodBusinessLicence", "holder_uscc"))
async def resolve_food_licences(root: Record, info: Info) -> list[Record] | None:
    return await records(info).many(info, "FoodBusinessLicence", "holder_uscc", root["uscc"])


@related("uscc", ("ConstructionPermit", "holder_uscc"))
async def resolve_construction_permits(root: Record, info: Info) -> list[Record] | None:
    return await records(info).many(info, "ConstructionPermit", "holder_uscc", root["uscc"])


@related("uscc", ("PollutantDischargePermit", "holder_uscc"))
async def resolve_discharge_permits(root: Record, info: Info) -> list[Record] | None:
    return await records(info).many(info, "PollutantDischargePermit", "holder_uscc", root["uscc"])


@related("uscc", ("Case", "applicant_id"))
async def resolve_cases(root: Record, info: Info) -> list[Record] | None:
    return await records(info).many(info, "Case", "applicant_id", root["uscc"])


def resolve_region_name(root: Record) -> str | None:
    return division_name(root["region_code"])


@strawberry.type(description="An enterprise or other registered market entity, keyed by its USCC.")
class Enterprise:
    uscc: str = strawberry.field(description="Unified Social Credit Code (GB 32100).")
    name: str
    type: str = strawberry.field(description="Enterprise type as registered (企业类型).")
    status: EnterpriseStatus
    registered_capital: float = strawberry.field(description="Registered capital, 10,000 CNY.")
    registration_date: Date
    approval_date: Date
    registration_authority: str
    term_from: Date
    term_to: Date | None = strawberry.field(description="Null: business term without limit.")
    business_scope: str
    address: str
    industry_code: str = strawberry.field(description="Industry, GB/T 4754 code.")
    region_code: str = strawberry.field(description="GB/T 2260 division code (USCC positions 3-8).")
    region_name: str | None = strawberry.field(resolver=resolve_region_name)
    legal_representative: Record | None = strawberry.field(
        resolver=resolve_legal_representative,
        graphql_type=Annotated["Person", strawberry.lazy("schema.person")] | None,
    )
    abnormal_operations: list[Record] | None = strawberry.field(
        resolver=resolve_abnormal_operations, graphql_type=list[AbnormalOperation] | None,
        description="Abnormal-operation list entries (Market Regulation).",
    )
    tax_registration: Record | None = strawberry.field(
        resolver=resolve_tax_registration, graphql_type=TaxRegistration | None,
        description="Tax registration and credit grade (Taxation).",
    )
    licences: list[Record] = strawberry.field(
        resolver=resolve_licences, graphql_type=list[Licence],
        description="Every licence it holds in any department; a department that cannot answer is "
        "reported in `errors` and its licences are missing from the list.",
    )
    food_licences: list[Record] | None = strawberry.field(
        resolver=resolve_food_licences,
        graphql_type=list[Annotated["FoodBusinessLicence", strawberry.lazy("schema.market")]] | None,
    )
    construction_permits: list[Record] | None = strawberry.field(
        resolver=resolve_construction_permits,
        graphql_type=list[Annotated["ConstructionPermit", strawberry.lazy("schema.housing")]] | None,
    )
    discharge_permits: list[Record] | None = strawberry.field(
        resolver=resolve_discharge_permits,
        graphql_type=list[Annotated["PollutantDischargePermit", strawberry.lazy("schema.ecology")]] | None,
    )
    cases: list[Record] | None = strawberry.field(
        resolver=resolve_cases, graphql_type=list[Annotated["Case", strawberry.lazy("schema.centre")]] | None,
        description="Application cases it filed at the service centre."
    )
