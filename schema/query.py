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
from schema.common import BadArgument, ctx, records
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


@strawberry.type
class Query:
    @strawberry.field(description="An enterprise by its Unified Social Credit Code.")
    async def enterprise(self, info: Info, uscc: str) -> Enterprise | None:
        return await records(info).one(info, "Enterprise", validate_uscc(uscc))  # type: ignore[return-value]

    @strawberry.field(description="A person by resident identity number.")
    async def person(self, info: Info, id_number: str) -> Person | None:
        c = ctx(info)
        c.require_clear("Person", "id_number")  # a look-up by a number the caller sees masked confirms guesses
        return await c.records.one(info, "Person", validate_id_number(id_number, today=c.today))  # type: ignore[return-value]

    @strawberry.field(description="A licence of any kind by its number; the number says which register.")
    async def licence(self, info: Info, number: str) -> Licence | None:
        number = number.strip().upper()
        type_name = LICENCE_TYPES[licence_kind_of(number)]
        if not ctx(info).can_see(type_name):
            return None
        return await records(info).one(info, type_name, number)  # type: ignore[return-value]

    @strawberry.field(name="case", description="An application case by its number.")
    async def case_(self, info: Info, number: str) -> Case | None:
        number = number.strip()
        if not 1 <= len(number) <= 24 or not number.isalnum():
            raise BadArgument("number", "a case number is 1-24 letters and digits")
        return await records(info).one(info, "Case", number)  # type: ignore[return-value]

    @strawberry.field(description="The service matters in the centre's catalogue.")
    async def service_matters(self, info: Info, department: str | None = None) -> list[ServiceMatter]:
        where = [] if department is None else [Condition("department", "eq", department)]
        page = Page(order_by="code", limit=ctx(info).settings.max_page_size)
        return await records(info).list(info, "ServiceMatter", where, page)  # type: ignore[return-value]

    @strawberry.field(description="Enterprises, by USCC, filtered by region and status.")
    async def enterprises(
        self, info: Info, first: int = 20, after: str | None = None, region: str | None = None,
        status: EnterpriseStatus | None = None,
    ) -> Connection[Enterprise]:
        page = _page(info, first, after, "uscc")
        where = _region(region) + ([] if status is None else [Condition("status", "eq", status.value)])
        listed = await records(info).list(info, "Enterprise", where, page, shown=first)  # one more: not shown
        return connection(info, listed, first, lambda r: r["uscc"], page.after)  # type: ignore[no-any-return]

    @strawberry.field(description="Licences of every kind, by number, filtered; kinds are merged in number order.")
    async def licences(
        self, info: Info, first: int = 20, after: str | None = None, region: str | None = None,
        status: LicenceStatus | None = None, kind: LicenceKind | None = None,
        expiring_within_days: int | None = None, holder_uscc: str | None = None,
    ) -> Connection[Licence]:
        page = _page(info, first, after, "number")
        where = _region(region) + _expiring(info, expiring_within_days)
        if status is not None:
            where.append(Condition("status", "eq", status.value))
        if holder_uscc is not None:
            where.append(Condition("holder_uscc", "eq", validate_uscc(holder_uscc)))
        kinds = list(Kind) if kind is None else [Kind(kind.value)]
        records = await _select_licences(info, kinds, where, page)
        return connection(info, records, first, lambda r: r["number"], page.after)  # type: ignore[no-any-return]

    @strawberry.field(description="Application cases, by number, filtered.")
    async def cases(
        self, info: Info, first: int = 20, after: str | None = None, region: str | None = None,
        status: CaseStatus | None = None, matter_code: str | None = None, applicant_id: str | None = None,
    ) -> Connection[Case]:
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
        return connection(info, listed, first, lambda r: r["number"], page.after)  # type: ignore[no-any-return]
