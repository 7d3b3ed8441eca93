"""What one GraphQL request carries through resolution: the caller, its records, its errors.

Resolvers read records through ``records`` (``hub.data.Records``) only: the caller's row rules
(jurisdiction) apply there and the request notes whom it showed what for the disclosure audit.
Field decisions need no call: they are built into the caller's view of the schema.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from collections.abc import Iterable
from dataclasses import InitVar, dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from graphql import GraphQLError, GraphQLSchema, get_named_type

from connectors.base import Condition, Record
from hub.audit.records import Decision
from hub.audit.subjects import SUBJECT_KEYS, SUBJECT_OF, Disclosed, Subject
from hub.data import Records, Sources, register_of
from hub.errors import FieldForbidden
from hub.fairuse.limits import ClientLimits
from hub.graphql.selection import cursors_selected, page_cursors_selected, read_keys, selected_fields
from hub.settings import Settings
from hub.strawberry_bridge import graphql_core_info

if TYPE_CHECKING:  # the policy package imports the graph, which imports this module
    from hub.policy.decide import Deny, TypeDecisions


NO_GRANTS: Mapping[str, frozenset[str]] = MappingProxyType({})
NO_QUOTAS: Mapping[str, int] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking: a client of a department, for a purpose, maybe within a case.

    ``scopes`` are what the token carries and the client's grants still hold now (any purpose);
    ``grants`` maps each of them to the purposes its live grants name: a request's declared
    purpose must be among them (docs/architecture.md, rule 5). ``jurisdiction`` is the client department's
    GB/T 2260 prefix for row filters ("" = the whole city). ``unrestricted`` is the development
    demo's anonymous caller only: settings refuse it in production. ``limits`` is the client's own
    ``hub.fairuse.ClientLimits`` (None: the settings' defaults); ``quotas`` maps a scope to the
    distinct subjects a day its grants allow (``hub.fairuse``).
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
    limits: ClientLimits | None = None
    quotas: Mapping[str, int] = field(default_factory=lambda: NO_QUOTAS)
    # The registry's change counter the client's record was read at, when known (``ClientRecord``):
    # a replica's quota leases are good only while it reads the same (``hub.fairuse.gate``).
    registry_seen: int | None = None
    # A Federation gateway's request (hub/federation/gateways.py): ``client_id`` is the gateway's,
    # the end user, purpose, case and ``origin_client`` are what it declared, ``origin_proven`` when
    # the originating system's access token came with the declaration.
    gateway: str | None = None
    origin_client: str | None = None
    origin_proven: bool = False


ANONYMOUS = Caller(unrestricted=True)


class CallersView(Protocol):
    """What a request reads of the caller's view of the graph (``hub.graphql.views.View``)."""

    @property
    def schema(self) -> GraphQLSchema: ...
    @property
    def jurisdictions(self) -> Mapping[str, str]: ...
    @property
    def decisions(self) -> Mapping[str, TypeDecisions] | None: ...
    def of(self, type_name: str) -> TypeDecisions | None: ...
    def sees(self, type_name: str) -> bool: ...
    def refusal(self, type_name: str) -> Deny | None: ...
    def clear_or_refusal(self, type_name: str, field_name: str) -> Deny | None: ...
    def labels(self, type_name: str) -> Mapping[str, Decision] | None: ...


@dataclass(slots=True)
class RequestContext:
    """One request's state: the caller, its view of the graph, its reads (``records``), its errors.

    It is the data path's ``hub.data.Access``: the view says which types the caller sees and how
    rows are filtered, and ``note`` collects what was shown for the disclosure audit.
    """

    request_id: str
    caller: Caller
    settings: Settings
    sources: InitVar[Sources]
    today: dt.date
    view: CallersView
    records: Records = field(init=False)
    # Errors that do not null a field (a department missing from a merged list): the edge adds them.
    partial_errors: list[GraphQLError] = field(default_factory=list)
    # Whom the request showed what: the disclosure audit's input.
    disclosed: Disclosed = field(default_factory=Disclosed)
    # Per (field node, type): its field set, and that of a page's first and last record (pageInfo's cursors).
    _field_sets: dict[tuple[int, str], tuple[int, int | None]] = field(default_factory=dict)

    def __post_init__(self, sources: Sources) -> None:
        self.records = Records(sources, self)

    def can_see(self, type_name: str) -> bool:
        """Whether the caller's view has the type at all (a licence register it is not granted: no)."""
        return self.view.sees(type_name)

    def row_filter(self, type_name: str) -> Condition | None:
        """The jurisdiction filter a list of ``type_name`` must be fetched with (None: every row)."""
        if self.caller.unrestricted or not self.caller.jurisdiction:
            return None
        field_name = self.view.jurisdictions.get(type_name)
        return None if field_name is None else Condition(field_name, "prefix", self.caller.jurisdiction)

    def refuse_unseen(self, type_name: str) -> None:
        """Raise ``FieldForbidden`` when the caller's view denies every field of the type (scope or purpose)."""
        refusal = self.view.refusal(type_name)
        if refusal is not None:
            raise FieldForbidden(type_name, "", refusal.reason, refusal.missing)

    def require_clear(self, type_name: str, field_name: str) -> None:
        """Refuse a look-up or filter by a field the caller does not see in clear (no guess confirmed)."""
        refusal = self.view.clear_or_refusal(type_name, field_name)
        if refusal is not None:
            raise FieldForbidden(type_name, field_name, refusal.reason, refusal.missing)

    def reads(self, info: Any, type_name: str) -> frozenset[str] | None:
        """The record keys answering the field ``info`` resolves reads of ``type_name``'s records,
        with those that name their subjects for the disclosure audit (None: it may read any)."""
        raw = graphql_core_info(info)
        keys = read_keys(raw.schema, type_name, raw.field_nodes, raw.fragments, raw.return_type,
                         raw.variable_values.coerced)
        return None if keys is None else keys | SUBJECT_KEYS.get(type_name, frozenset())

    def note(self, info: Any, type_name: str, records: Iterable[Record], subject: Subject | None = None) -> None:
        """Note records shown by the field ``info`` resolves, for the disclosure audit (and the quotas
        counted from it); ``subject`` names whom they are about where the type does not say."""
        field_set, ends = self._field_sets_of(info, type_name)
        if subject is not None:
            for _ in records:
                self.disclosed.add(subject, field_set)
            return
        subject_of = SUBJECT_OF.get(type_name)
        if subject_of is not None:
            self.disclosed.add_all(filter(None, map(subject_of, records)), field_set)
            add = self.disclosed.add
            if ends is not None and isinstance(records, list) and records:
                for record in (records[0], records[-1]):  # the records pageInfo's cursors are made of
                    found = subject_of(record)
                    if found is not None:
                        add(found, ends)

    def noting(self, info: Any, type_name: str) -> Callable[[Record], None]:
        """``note`` of one record at a time under the field ``info`` resolves, its field set looked up
        once (a list's look-ups: a hundred holders found one by one)."""
        subject_of = SUBJECT_OF.get(type_name)
        field_set: int | None = None

        def note_one(record: Record) -> None:
            nonlocal field_set
            if field_set is None:  # as ``note``: the field set is made when a record is first shown
                field_set = self._field_sets_of(info, type_name)[0]
            found = None if subject_of is None else subject_of(record)
            if found is not None:
                self.disclosed.add(found, field_set)

        return note_one

    def _field_sets_of(self, info: Any, type_name: str) -> tuple[int, int | None]:
        """The field set shown by the field ``info`` resolves, and the one of a page's first and last
        record when the selection has ``pageInfo``'s cursors (their register key, which they encode)."""
        raw = graphql_core_info(info)
        key = (id(raw.field_nodes[0]), type_name)
        found = self._field_sets.get(key)
        if found is None:
            self.disclosed.types.add(type_name)
            variables = raw.variable_values.coerced
            names = selected_fields(raw.schema, type_name, raw.field_nodes, raw.fragments, raw.return_type, variables)
            labels = self.view.labels(type_name)
            ends: int | None = None
            if get_named_type(raw.return_type).name.endswith("Connection"):  # a page: its cursors carry keys
                carried = register_of(type_name).key
                if carried is not None:
                    if carried not in names and cursors_selected(raw.field_nodes, raw.fragments, raw.return_type,
                                                                 variables):
                        names.append(carried)
                    if page_cursors_selected(raw.field_nodes, raw.fragments, raw.return_type, variables):
                        label: Decision = "allow" if labels is None else labels.get(carried, "deny")
                        ends = self.disclosed.field_set({f"{type_name}.{carried}": label})
            fields: dict[str, Decision] = {
                f"{type_name}.{name}": "allow" if labels is None else labels.get(name, "deny") for name in names
            }
            found = self._field_sets[key] = (self.disclosed.field_set(fields), ends)
        return found
