"""Root fields: look-ups by key (validated identifiers) and filtered, cursor-paginated lists."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from connectors.base import Condition, Page, Record
from hub.identifiers import (
    LicenceKind as Kind,
    licence_kind_of,
    validate_division_code,
    validate_id_number,
    validate_uscc,
)
from hub.identifiers.division import division_prefix
from schema.centre import Case, CaseStatus, ServiceMatter
from schema.common import BadArgument, by_argument, ctx, records
from schema.enterprise import Enterprise, EnterpriseStatus
from schema.licence import LICENCE_TYPES, Licence, LicenceKind, LicenceStatus, partial_source_error
from schema.pagination import Connection, check_first, connection, decode_cursor
from schema.person import Person

MAX_EXPIRY_WINDOW = 3660


def _region(region: str | None) -> list[Condition]:
    if region is None:
        return []
    return [Condition("region_code", "prefix", division_prefix(validate_division_code(region)))]


def _page(info: Info, first: int, after: str | None, order_by: str) -> Page:
    check_first(first, ctx(info).settings.max_page_size)
    return Page(order_by=order_by, limit=first + 1, after=decode_cursor(after))


def _expiring(info: Info, days: int | None) -> list[Condition]:
    if days is None:
        return []
    if not 0 <= days <= MAX_EXPIRY_WINDOW:
        raise BadArgument("expiringWithinDays", f"must be between 0 and {MAX_EXPIRY_WINDOW}")
    today = ctx(info).today
    return [
        Condition("valid_to", "gte", today.isoformat()),
        Condition("valid_to", "lte", (today + dt.timedelta(days=days)).isoformat()),
    ]


async def _select_licences(info: Info, kinds: list[Kind], where: list[Condition], page: Page) -> list[Record]:
    """One keyset page per issuing register, merged by number; a failed register is reported."""
    merged, failures = await records(info).list_across(info, [LICENCE_TYPES[k] for k in kinds], where, page)
    ctx(info).partial_errors.extend(partial_source_error(failure, info) for failure in failures)
    return merged


@by_argument("Enterprise", "uscc", validate_uscc)
async def enterprise(info: Info, uscc: str) -> Record | None:
    return await records(info).one(info, "Enterprise", validate_uscc(uscc))


async def person(info: Info, id_number: str) -> Record | None:
    c = ctx(info)
    c.require_clear("Person", "id_number")  # a look-up by a number the caller sees masked confirms guesses
    return await c.records.one(info, "Person", validate_id_number(id_number, today=c.today))


async def licence(info: Info, number: str) -> Record | None:
    number = number.strip().upper()
    type_name = LICENCE_TYPES[licence_kind_of(number)]
    if not ctx(info).can_see(type_name):
        return None
    return await records(info).one(info, type_name, number)


def _case_number(number: str) -> str:
    number = number.strip()
    if not 1 <= len(number) <= 24 or not number.isalnum():
        raise BadArgument("number", "a case number is 1-24 letters and digits")
    return number


@by_argument("Case", "number", _case_number)
async def case(info: Info, number: str) -> Record | None:
    return await records(info).one(info, "Case", _case_number(number))


async def service_matters(info: Info, department: str | None = None) -> list[Record]:
    where = [] if department is None else [Condition("department", "eq", department)]
    page = Page(order_by="code", limit=ctx(info).settings.max_page_size)
    return await records(info).list(info, "ServiceMatter", where, page)


async def enterprises(
    info: Info, first: int = 20, after: str | None = None, region: str | None = None,
    status: EnterpriseStatus | None = None,
) -> Record:
    page = _page(info, first, after, "uscc")
    where = _region(region) + ([] if status is None else [Condition("status", "eq", status.value)])
    listed = await records(info).list(info, "Enterprise", where, page, shown=first)  # one more: not shown
    return connection(info, listed, first, lambda r: r["uscc"], page.after)


async def licences(
    info: Info, first: int = 20, after: str | None = None, region: str | None = None,
    status: LicenceStatus | None = None, kind: LicenceKind | None = None,
    expiring_within_days: int | None = None, holder_uscc: str | None = None,
) -> Record:
    page = _page(info, first, after, "number")
    where = _region(region) + _expiring(info, expiring_within_days)
    if status is not None:
        where.append(Condition("status", "eq", status.value))
    if holder_uscc is not None:
        where.append(Condition("holder_uscc", "eq", validate_uscc(holder_uscc)))
    kinds = list(Kind) if kind is None else [Kind(kind.value)]
    selected = await _select_licences(info, kinds, where, page)
    return connection(info, selected, first, lambda r: r["number"], page.after)


async def cases(
    info: Info, first: int = 20, after: str | None = None, region: str | None = None,
    status: CaseStatus | None = None, matter_code: str | None = None, applicant_id: str | None = None,
) -> Record:
    page = _page(info, first, after, "number")
    where = _region(region)
    if status is not None:
        where.append(Condition("status", "eq", status.value))
    if matter_code is not None:
        where.append(Condition("matter_code", "eq", matter_code))
    if applicant_id is not None:
        ctx(info).require_clear("Case", "applicant_id")  # a filter on a pseudonymised number confirms guesses
        where.append(Condition("applicant_id", "eq", applicant_id.strip().upper()))
    listed = await records(info).list(info, "Case", where, page, shown=first)  # one more: not shown
    return connection(info, listed, first, lambda r: r["number"], page.after)


@strawberry.type
class Query:
    """The root fields. Each resolver returns records (dicts); ``graphql_type`` names their type."""

    enterprise: Record | None = strawberry.field(
        resolver=enterprise, graphql_type=Enterprise | None,
        description="An enterprise by its Unified Social Credit Code.",
    )
    person: Record | None = strawberry.field(
        resolver=person, graphql_type=Person | None, description="A person by resident identity number."
    )
    licence: Record | None = strawberry.field(
        resolver=licence, graphql_type=Licence | None,
        description="A licence of any kind by its number; the number says which register.",
    )
    case_: Record | None = strawberry.field(
        resolver=case, name="case", graphql_type=Case | None, description="An application case by its number."
    )
    service_matters: list[Record] = strawberry.field(
        resolver=service_matters, graphql_type=list[ServiceMatter],
        description="The service matters in the centre's catalogue.",
    )
    enterprises: Record = strawberry.field(
        resolver=enterprises, graphql_type=Connection[Enterprise],
        description="Enterprises, by USCC, filtered by region and status.",
    )
    licences: Record = strawberry.field(
        resolver=licences, graphql_type=Connection[Licence],
        description="Licences of every kind, by number, filtered; kinds are merged in number order.",
    )
    cases: Record = strawberry.field(
        resolver=cases, graphql_type=Connection[Case], description="Application cases, by number, filtered."
    )
