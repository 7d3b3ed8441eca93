"""How a subgraph turns an entity representation from a gateway into the record its fields read.

The owner of an entity loads it through the request's loaders, so a gateway's ``_entities`` call for
a hundred keys is one source call; a department that only adds fields to an entity reads nothing but
the key (and any ``@requires`` fields), which its resolvers take from the representation itself.
A department that points at another's entity answers with a reference (its key), never a look-up:
the owner resolves it, once for all the references in the gateway's query.
"""

from __future__ import annotations

from typing import Any

from strawberry.types.info import Info
from strawberry.utils.str_converters import to_snake_case

from connectors.base import Record
from schema.common import ctx
from schema.subgraphs.parts import Reference


def load(connector: str, entity: str, key: str, type_name: str) -> Reference:
    """The owner's record for the representation's key (None: the owner has no such entity)."""
    graphql_key = key if "_" not in key else _camel(key)

    async def reference(info: Info, representation: dict[str, Any]) -> Record | None:
        c = ctx(info)
        record = await c.loaders.one(connector, entity, key, representation[graphql_key])
        return c.reveal(info, type_name, record)  # type: ignore[no-any-return]

    return reference


async def as_record(info: Info, representation: dict[str, Any]) -> Record | None:
    """The representation itself, in the records' field names: all a contributing department needs."""
    return {to_snake_case(name): value for name, value in representation.items()}


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


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(word.title() for word in rest)
