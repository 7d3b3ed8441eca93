"""Person, keyed by resident ID number: recorded by Market Regulation, verified by Public Security."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from connectors.base import Record
from hub.identifiers.id_number import birth_date_of, sex_of
from schema.common import Date, ctx, records, related
from schema.security import IdentityVerification, verify

if TYPE_CHECKING:
    from schema.enterprise import Enterprise


async def resolve_identity_verification(root: Record, info: Info) -> Record | None:
    today = ctx(info).today.isoformat()
    return await records(info).one(
        info, "IdentityVerification", root["id_number"],
        derive=lambda record: verify(root, record, today), subject=("person", root["id_number"]),
    )


@related("id_number", ("Enterprise", "legal_rep_id"))
async def resolve_represents(root: Record, info: Info) -> list[Record] | None:
    return await records(info).many(info, "Enterprise", "legal_rep_id", root["id_number"])


def resolve_sex(root: Record) -> str:
    return sex_of(root["id_number"])


def resolve_birth_date(root: Record) -> Date:
    return Date(birth_date_of(root["id_number"]))


@strawberry.type(description="A natural person, keyed by resident identity number (GB 11643).")
class Person:
    id_number: str
    id_type: str
    name: str
    mobile: str | None
    id_valid_from: Date | None
    id_valid_to: Date | None = strawberry.field(description="Null: valid without time limit.")
    sex: str = strawberry.field(resolver=resolve_sex, description="M or F, from the ID number.")
    birth_date: Date = strawberry.field(resolver=resolve_birth_date)
    identity_verification: Record | None = strawberry.field(
        resolver=resolve_identity_verification, graphql_type=IdentityVerification | None,
        description="Checked against Public Security's data.",
    )
    represents: list[Record] | None = strawberry.field(
        resolver=resolve_represents,
        graphql_type=list[Annotated["Enterprise", strawberry.lazy("schema.enterprise")]] | None,
        description="Enterprises whose legal representative this person is.",
    )
