"""How a subgraph turns an entity representation from a gateway into the record its fields read.

The representation reaches here checked (``schema.subgraphs.representations``): its key, and any
``@requires`` field the caller may see in clear, in the records' field names. The owner of an entity
loads it through the request's data path (``hub.data.Records.one``), so a gateway's ``_entities`` call
for a hundred keys is one source call; a department that only adds fields to an entity reads nothing
but the key (and any ``@requires`` fields), plus, for a caller held to a jurisdiction, the division on
the owner's record (``Records.contribution``, batched like any look-up). Either way the record passes
the same row rules and disclosure note as at ``/graphql``.
A department that points at another's entity answers with a reference (its key), never a look-up:
the owner resolves it, once for all the references in the gateway's query.
"""

from __future__ import annotations

from collections.abc import Callable

from strawberry.types.info import Info

from connectors.base import Record
from hub.data import register_of
from schema.common import records
from schema.subgraphs.parts import Reference


def load(type_name: str) -> Reference:
    """The owner's record for the representation's key (None: the owner has no such entity)."""
    key = register_of(type_name).key
    if key is None:
        raise ValueError(f"{type_name} has no key to resolve a representation by")

    async def reference(info: Info, representation: Record) -> Record | None:
        return await records(info).one(info, type_name, representation[key])

    return reference


def contributed(type_name: str, check: Callable[[str], object] | None = None) -> Reference:
    """The representation itself, for a department that only adds fields to another's entity.

    Where the caller's view row-filters the type, the record gets the owner's division code from
    the owner's record (never from the representation, which is the caller's word), the key checked
    with ``check`` first; an owner that has no such entity withholds it (fail closed). An owner
    that cannot be reached raises its ``SourceUnavailable``: the entity is withheld with an error
    naming the owner, never placed by a guess.
    """

    async def reference(info: Info, representation: Record) -> Record | None:
        return await records(info).contribution(info, type_name, representation, check)

    return reference


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
