"""How a subgraph turns an entity representation from a gateway into the record its fields read.

The representation reaches here checked (``schema.subgraphs.representations``): its key, and any
``@requires`` field the caller may see in clear, in the records' field names. The owner of an entity
loads it through the request's loaders, so a gateway's ``_entities`` call for a hundred keys is one
source call; a department that only adds fields to an entity reads nothing but the key (and any
``@requires`` fields), plus, for a caller held to a jurisdiction, the division on the owner's record
(batched like any look-up). Either way the record passes through ``reveal``: the jurisdiction row filter
holds at a contributing department as at the owner, and the disclosure audit notes it.
A department that points at another's entity answers with a reference (its key), never a look-up:
the owner resolves it, once for all the references in the gateway's query.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from strawberry.types.info import Info

from connectors.base import Record
from hub.identifiers import validate_uscc
from schema.common import ctx
from schema.subgraphs.parts import Reference

# (info, the representation's record, the division-code field) -> the owner's division code, None: unknown.
Division = Callable[[Info, Record, str], Awaitable[str | None]]


def load(connector: str, entity: str, key: str, type_name: str) -> Reference:
    """The owner's record for the representation's key (None: the owner has no such entity)."""

    async def reference(info: Info, representation: Record) -> Record | None:
        c = ctx(info)
        record = await c.loaders.one(connector, entity, key, representation[key])
        return c.reveal(info, type_name, record)  # type: ignore[no-any-return]

    return reference


def contributed(type_name: str, division: Division | None = None) -> Reference:
    """The representation itself, for a department that only adds fields to another's entity.

    Where the caller's view row-filters the type, the record gets the owner's division code from
    ``division`` (never from the representation, which is the caller's word); without one the
    entity is withheld (fail closed), as the owner would withhold a row it cannot place.
    """

    async def reference(info: Info, representation: Record) -> Record | None:
        c = ctx(info)
        row_filter = c.row_filter(type_name)
        record = dict(representation)
        if row_filter is not None:
            code = None if division is None else await division(info, representation, row_filter.field)
            if code is None:
                return None
            record[row_filter.field] = code
        return c.reveal(info, type_name, record)  # type: ignore[no-any-return]

    return reference


async def enterprise_division(info: Info, representation: Record, field: str) -> str | None:
    """The division on Market Regulation's current record, as /graphql places an enterprise.

    Not the one written in the USCC (positions 3-8 name the division that first registered it):
    an enterprise that moved is served where it is now, and nowhere else. The USCC is still checked
    (a malformed one is the caller's mistake, as at ``enterprise(uscc:)``).
    """
    validate_uscc(representation["uscc"])
    return await _ENTERPRISE_OWNER(info, representation, field)


def owners_division(connector: str, entity: str, key: str) -> Division:
    """The division code on the owner's record, loaded (batched) through the request's loaders.

    An owner that cannot be reached raises its ``SourceUnavailable``: the entity is withheld with an
    error naming the owner (fail closed), never placed by a guess.
    """

    async def division(info: Info, representation: Record, field: str) -> str | None:
        record = await ctx(info).loaders.one(connector, entity, key, representation[key])
        code = None if record is None else record.get(field)
        return code if isinstance(code, str) else None

    return division


_ENTERPRISE_OWNER = owners_division("market", "enterprise", "uscc")


def holder_reference(root: Record) -> Record:
    """A licence's holder, for Market Regulation's subgraph to resolve (Licence.holder elsewhere)."""
    return {"uscc": root["holder_uscc"]}


def applicant_enterprise_reference(root: Record) -> Record | None:
    return {"uscc": root["applicant_id"]} if root["applicant_id_type"] == "USCC" else None


def applicant_person_reference(root: Record) -> Record | None:
    return {"id_number": root["applicant_id"]} if root["applicant_id_type"] == "ID" else None


def licence_reference(root: Record) -> Record | None:
    """The licence a case issued, for its issuer's subgraph to resolve (its type is in its number)."""
    return {"number": root["licence_number"]} if root["licence_number"] else None
