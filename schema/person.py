"""Person, keyed by resident ID number: recorded by Market Regulation, verified by Public Security."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from connectors.base import Record
from hub.identifiers.id_number import birth_date_of, sex_of
from schema.common import Date, ctx
from schema.security import IdentityVerification, verify

if TYPE_CHECKING:
    from schema.enterprise import Enterprise


async def resolve_identity_verification(root: Record, info: Info) -> IdentityVerification | None:
    c = ctx(info)
    record = await c.loaders.one("security", "identity_record", "id_number", root["id_number"])
    result = verify(root, record, c.today.isoformat())
    return c.reveal(info, "IdentityVerification", result, subject=("person", root["id_number"]))  # type: ignore[no-any-return]


async def resolve_represents(
    root: Record, info: Info
) -> list[Annotated[Enterprise, strawberry.lazy("schema.enterprise")]] | None:
    c = ctx(info)
    records = await c.loaders.many("market", "enterprise", "legal_rep_id", root["id_number"])
    return c.reveal_all(info, "Enterprise", records)


def resolve_sex(root: Record) -> str:
    return sex_of(root["id_number"])


def resolve_birth_date(root: Record) -> Date:
    return birth_date_of(root["id_number"])  # type: ignore[return-value]


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
    identity_verification: IdentityVerification | None = strawberry.field(
        resolver=resolve_identity_verification, description="Checked against Public Security's data."
    )
    represents: list[Annotated[Enterprise, strawberry.lazy("schema.enterprise")]] | None = strawberry.field(
        resolver=resolve_represents, description="Enterprises whose legal representative this person is."
    )
