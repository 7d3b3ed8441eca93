"""What one GraphQL request carries through resolution: the caller, its loaders, its errors.

The caller is anonymous until OAuth lands; the policy engine and the disclosure audit will read
``caller`` and fill ``disclosed`` from here, so resolvers already pass every record they return to
a caller through ``reveal``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from graphql import GraphQLError

from connectors.base import Record
from hub.loaders import Loaders
from hub.settings import Settings
from hub.sources import Sources


NO_GRANTS: Mapping[str, frozenset[str]] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking: a client of a department, for a purpose, maybe within a case.

    ``scopes`` are what the token carries and the client's grants still hold now (any purpose);
    ``grants`` maps each of them to the purposes its live grants name: a request's declared
    purpose must be among them (DESIGN.md rule 5). ``jurisdiction`` is the client department's
    GB/T 2260 prefix for row filters ("" = the whole city). ``unrestricted`` is the development
    demo's anonymous caller only: settings refuse it in production.
    """

    client_id: str | None = None
    department: str | None = None
    scopes: frozenset[str] = frozenset()
    end_user: str | None = None
    purpose: str | None = None
    case_number: str | None = None
    grants: Mapping[str, frozenset[str]] = field(default_factory=lambda: NO_GRANTS)
    jurisdiction: str = ""
    unrestricted: bool = False


ANONYMOUS = Caller(unrestricted=True)


@dataclass(slots=True)
class RequestContext:
    request_id: str
    caller: Caller
    settings: Settings
    sources: Sources
    loaders: Loaders
    today: dt.date
    # Errors that do not null a field (a department missing from a merged list): the edge adds them.
    partial_errors: list[GraphQLError] = field(default_factory=list)
    # (entity type, key) of each subject whose data this request returned: the audit's input.
    disclosed: set[tuple[str, str]] = field(default_factory=set)

    def reveal(self, type_name: str, key_field: str, record: Record | None) -> Any:
        """The view of a raw record this caller may see (allow-all until policies land)."""
        if record is not None:
            self.disclosed.add((type_name, record[key_field]))
        return record

    def reveal_all(self, type_name: str, key_field: str, records: list[Record]) -> list[Record]:
        disclosed = self.disclosed
        for record in records:
            disclosed.add((type_name, record[key_field]))
        return records
