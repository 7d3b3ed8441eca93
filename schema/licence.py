"""The Licence interface: every licence any department issues, whoever issued it.

A licence number says which department issued it (``hub.identifiers.licence_numbers``), so
``licence(number:)`` goes straight to the owner; an enterprise's licences come from every
licensing department, each asked once per request for all the holders in it.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from connectors.base import Record, SourceError
from hub.identifiers import LicenceKind as Kind
from schema.common import Date, ctx, look_up, records

if TYPE_CHECKING:
    from schema.enterprise import Enterprise


@strawberry.enum(description="The kinds of licence in the graph, one per issuing register.")
class LicenceKind(enum.Enum):
    FOOD_BUSINESS = "food_business"
    CONSTRUCTION = "construction"
    POLLUTANT_DISCHARGE = "pollutant_discharge"


@strawberry.enum(description="Licence status (GB/T 36904 electronic licence states).")
class LicenceStatus(enum.Enum):
    VALID = "VALID"
    CHANGED = "CHANGED"
    RENEWED = "RENEWED"
    CANCELLED = "CANCELLED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


# kind -> the GraphQL type of the register that issues it (``hub.data.registers`` says where it is kept).
LICENCE_TYPES: dict[Kind, str] = {
    Kind.FOOD_BUSINESS: "FoodBusinessLicence",
    Kind.CONSTRUCTION: "ConstructionPermit",
    Kind.POLLUTANT_DISCHARGE: "PollutantDischargePermit",
}


def type_name_of(record: Record) -> str:
    """Concrete type of a licence record, from its number's shape (no lookup per field)."""
    number: str = record["number"]
    if number.startswith("JY"):
        return "FoodBusinessLicence"
    if number.endswith("P"):
        return "PollutantDischargePermit"
    return "ConstructionPermit"


resolve_holder = look_up("Enterprise", "holder_uscc")


@strawberry.interface(description="A licence, permit or certificate issued by a department.")
class Licence:
    number: str = strawberry.field(description="Licence number, unique across the graph.")
    holder_uscc: str = strawberry.field(description="USCC of the holder.")
    holder_name: str
    issuer_name: str
    issue_date: Date
    valid_from: Date
    valid_to: Date | None = strawberry.field(description="Null: valid without time limit.")
    status: LicenceStatus
    region_code: str = strawberry.field(description="GB/T 2260 code of the licensed place.")
    holder: Record | None = strawberry.field(
        resolver=resolve_holder, graphql_type=Annotated["Enterprise", strawberry.lazy("schema.enterprise")] | None,
        description="The enterprise holding it (Market Regulation).",
    )

    @classmethod
    def resolve_type(cls, obj: Any, info: Any, abstract_type: Any) -> str:
        return type_name_of(obj)


async def licences_of_holder(info: Info, uscc: str, kinds: tuple[Kind, ...]) -> list[Record]:
    """Every licence of one holder across departments; a department that fails is reported, not fatal."""
    licences, failures = await records(info).many_across(info, [LICENCE_TYPES[k] for k in kinds], "holder_uscc", uscc)
    ctx(info).partial_errors.extend(partial_source_error(failure, info) for failure in failures)
    return licences


def partial_source_error(exc: SourceError, info: Info) -> GraphQLError:
    """The error for a department missing from a list that is still returned with the rest."""
    error = GraphQLError(str(exc), path=info.path.as_list())
    error.original_error = exc
    return error
