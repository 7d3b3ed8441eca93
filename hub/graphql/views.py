"""Each caller's view of the graph: only what its grants reach, with the policy decisions built in.

docs/architecture.md, "The access model": a client sees (introspection, GraphiQL, validation) only the types its
grants reach; a field outside them is exactly a field that does not exist. Within what it sees,
every field carries the caller's decision for the declared purpose:

- allow: the field as the graph has it (the one-call reader of the raw record: no cost added);
- mask: a reader that applies the named mask; the field turns nullable (a mask may withhold) and,
  when the mask writes text over a number or a date (a band, a year), its type is ``String``;
- deny: a resolver that raises ``hub.errors.FieldForbidden`` (``extensions.code = "FORBIDDEN"``) naming
  the scope or the purpose that is missing; the field turns nullable so the rest of the answer still comes.

A view is a GraphQL schema built from the hub's own: the same resolvers, filtered and rewritten.
Views depend only on (scopes, purpose), so they are built once and cached: a request pays a dict
lookup, never a per-field policy evaluation (docs/architecture.md, "Performance").
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from collections.abc import Callable, Mapping
import dataclasses
from dataclasses import dataclass
from typing import Any, cast

from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLString,
    GraphQLUnionType,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
)

from hub.audit.records import Decision
from hub.context import Caller
from hub.errors import FieldForbidden
from hub.policy import Allow, Deny, Mask, Policies, TypeDecisions, decide
from hub.strawberry_bridge import carry_strawberry_schema, reads_record, record_key

MAX_VIEWS = 256
KEEPS_TYPE = frozenset({"suppress"})  # masks whose output is the field's own type (or null)


@dataclass(frozen=True, slots=True)
class View:
    """One (scopes, purpose)'s schema and decisions; ``decisions`` is None for the unrestricted demo."""

    schema: GraphQLSchema
    decisions: Mapping[str, TypeDecisions] | None
    jurisdictions: Mapping[str, str]  # type -> its division-code field, for row filters
    # (type, field) -> the scope showing it
    unmasking: Mapping[tuple[str, str], str] = dataclasses.field(default_factory=dict)
    # type -> its refusal (or None), worked out on first use: resolvers ask once per record
    _refusals: dict[str, Deny | None] = dataclasses.field(default_factory=dict, compare=False, repr=False)

    def clear_or_refusal(self, type_name: str, field_name: str) -> Deny | None:
        """None when the caller sees the field in clear; else why not (the refusal a look-up by it gets).

        A look-up or filter by a value the caller sees only masked would confirm guesses one by one
        (a masked ID number has a birth year and both ends shown: some 30 candidates).
        """
        decisions = self.of(type_name)
        if self.decisions is None:
            return None
        decision = None if decisions is None else decisions.decision(field_name)
        if isinstance(decision, Allow):
            return None
        if isinstance(decision, Deny):
            return decision
        return Deny("scope", self.unmasking.get((type_name, field_name), "a scope this client lacks"))

    @property
    def reaches_nothing(self) -> bool:
        """No root field at all: the grants reach no type of this graph (an empty Query is no schema)."""
        query = self.schema.query_type
        return query is None or not query.fields

    def sees(self, type_name: str) -> bool:
        return self.schema.type_map.get(type_name) is not None

    def of(self, type_name: str) -> TypeDecisions | None:
        return None if self.decisions is None else self.decisions.get(type_name)

    def refusal(self, type_name: str) -> Deny | None:
        """The reason every field of the type is denied (its scope or this purpose), else None.

        Resolvers refuse such a type's records whole, before any is returned: a record whose every
        field is null would still tell that it exists, and a connection's cursors carry its key.
        """
        try:
            return self._refusals[type_name]
        except KeyError:
            found = self._refusals[type_name] = self._refusal(type_name)
            return found

    def _refusal(self, type_name: str) -> Deny | None:
        decisions = self.of(type_name)
        if decisions is None or not decisions.fields:
            return None
        denied = [d for d in decisions.fields.values() if isinstance(d, Deny) and d.reason in ("scope", "purpose")]
        if len(denied) == len(decisions.fields):
            return next((d for d in denied if d.reason == "purpose"), denied[0])
        return None

    def labels(self, type_name: str) -> Mapping[str, Decision] | None:
        """Field -> allow | mask | deny, as the disclosure audit records it (None: unrestricted)."""
        if self.decisions is None:
            return None
        decisions = self.decisions.get(type_name)
        if decisions is None:
            return {}
        return {name: _label(d) for name, d in decisions.fields.items()}


class Views:
    """The views of one schema under one set of policies, cached per (scopes, purpose)."""

    def __init__(self, schema: GraphQLSchema, policies: Policies) -> None:
        self._schema = schema
        self._policies = policies
        self._jurisdictions = {
            name: policy.jurisdiction for name, policy in policies.types.items() if policy.jurisdiction
        }
        self._unmasking = {
            (name, field_name): field.scope or policy.scope
            for name, policy in policies.types.items() for field_name, field in policy.fields.items()
        }
        self.unrestricted = View(schema, None, self._jurisdictions)
        self._views: OrderedDict[Any, View] = OrderedDict()

    def for_caller(self, caller: Caller) -> View:
        if caller.unrestricted:
            return self.unrestricted
        purpose = caller.purpose or ""
        serving = frozenset(s for s in caller.scopes if purpose in caller.grants.get(s, ()))
        # The grants' purposes are part of the key: a refusal quotes them, and must quote the caller's own.
        key = (serving, purpose, frozenset((s, frozenset(caller.grants.get(s, ()))) for s in caller.scopes))
        view = self._views.get(key)
        if view is None:
            view = self._build(caller, serving, purpose)
            self._views[key] = view
            if len(self._views) > MAX_VIEWS:
                self._views.popitem(last=False)
        else:
            self._views.move_to_end(key)
        return view

    def _build(self, caller: Caller, serving: frozenset[str], purpose: str) -> View:
        decisions: dict[str, TypeDecisions] = {}
        for name, policy in self._policies.types.items():
            found = decide(self._policies, serving, purpose, name)
            decisions[name] = _explained(found, policy.scope, caller, purpose)
        visible = frozenset(n for n, p in self._policies.types.items() if p.scope in caller.scopes)
        schema = _Filter(self._schema, self._policies, decisions, visible).schema()
        return View(schema, decisions, self._jurisdictions, self._unmasking)


def _explained(found: TypeDecisions, type_scope: str, caller: Caller, purpose: str) -> TypeDecisions:
    """Purpose refusals that say what was declared, and which purposes the field or the grants name."""
    declared = f"{purpose!r}" if purpose else "no purpose (send X-Hub-Purpose)"
    granted = caller.grants.get(type_scope)
    by_grant = granted is not None and purpose not in granted
    fields: dict[str, Any] = {}
    for name, decision in found.fields.items():
        if isinstance(decision, Deny) and decision.reason == "purpose":
            decision = Deny("purpose", f"it serves {decision.missing}; the request declared {declared}")
        elif isinstance(decision, Deny) and decision.reason == "scope" and by_grant:
            named = ", ".join(sorted(granted or ())) or "none"
            decision = Deny("purpose", f"this client's grants for {type_scope} name {named}; the request declared "
                                       f"{declared}")
        fields[name] = decision
    return TypeDecisions(found.type_name, fields)


class _Filter:
    """Rebuilds the schema's output types for one caller: hidden, masked and denied fields."""

    def __init__(
        self, schema: GraphQLSchema, policies: Policies, decisions: Mapping[str, TypeDecisions],
        visible: frozenset[str],
    ) -> None:
        self._base = schema
        self._policies = policies
        self._decisions = decisions
        self._visible_policy_types = visible
        self._shown: dict[str, bool] = {}
        self._built: dict[str, GraphQLNamedType] = {}

    def schema(self) -> GraphQLSchema:
        query = cast(GraphQLObjectType, self._named(cast(GraphQLObjectType, self._base.query_type)))
        if not query.fields:
            return GraphQLSchema(query=query)  # never executed: View.reaches_nothing
        extra = [self._named(t) for t in self._base.type_map.values() if isinstance(t, GraphQLObjectType)
                 and t.interfaces and self.shows(t)]
        view = GraphQLSchema(query=query, types=extra, directives=self._base.directives,
                             extensions=self._base.extensions)
        carry_strawberry_schema(view, self._base)
        return view

    # -- what is shown -------------------------------------------------------------------------
    def shows(self, named: GraphQLNamedType) -> bool:
        if not isinstance(named, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)):
            return True
        found = self._shown.get(named.name)
        if found is None:
            self._shown[named.name] = True  # a cycle (Enterprise -> Person -> Enterprise) assumes shown
            found = self._decide_shown(named)
            self._shown[named.name] = found
        return found

    def _decide_shown(self, named: GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType) -> bool:
        if isinstance(named, GraphQLUnionType):
            return any(self.shows(member) for member in named.types)
        if isinstance(named, GraphQLInterfaceType):
            return any(self.shows(t) for t in self._base.get_possible_types(named))
        if named.name in self._policies.types:
            return named.name in self._visible_policy_types
        if named is self._base.query_type or named.name.startswith("__"):
            return True
        if named.name == "_Service":
            # A subgraph's SDL (federation's `_service { sdl }`) describes all of it: only a caller
            # whose grants reach every type of the subgraph (a gateway's client) may read it; to
            # anyone else the field does not exist, as for any type outside the view.
            return all(name in self._visible_policy_types for name in self._policies.types
                       if name in self._base.type_map)
        # Types no policy classifies carry no department data (pagination plumbing, federation's
        # _Service): an edge or a connection exists only if what it carries does.
        return all(self.shows(get_named_type(f.type)) for f in named.fields.values())

    def field_shown(self, owner: str, name: str, field: GraphQLField) -> bool:
        if not self.shows(get_named_type(field.type)):
            return False
        decisions = self._decisions.get(owner)
        if decisions is None:
            return True
        decision = decisions.decision(record_key(field, name))
        return not (isinstance(decision, Deny) and decision.reason in ("not_shared", "unclassified"))

    # -- building ------------------------------------------------------------------------------
    def _named(self, named: GraphQLNamedType) -> GraphQLNamedType:
        if not isinstance(named, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)):
            return named  # scalars, enums, inputs: shared with the hub's schema as they are
        built = self._built.get(named.name)
        if built is not None:
            return built
        # Thunks where graphql-core's kwargs name the built lists: a view's types refer to each other.
        kwargs: dict[str, Any] = dict(named.to_kwargs())
        if isinstance(named, GraphQLUnionType):
            kwargs["types"] = lambda: [self._named(t) for t in named.types if self.shows(t)]
            built = GraphQLUnionType(**kwargs)
        elif isinstance(named, GraphQLInterfaceType):
            kwargs["fields"] = lambda: self._interface_fields(named)
            kwargs["interfaces"] = lambda: [self._named(i) for i in named.interfaces if self.shows(i)]
            built = GraphQLInterfaceType(**kwargs)
        else:
            kwargs["fields"] = lambda: self._object_fields(named)
            kwargs["interfaces"] = lambda: [self._named(i) for i in named.interfaces if self.shows(i)]
            built = GraphQLObjectType(**kwargs)
        self._built[named.name] = built
        return built

    def _object_fields(self, named: GraphQLObjectType) -> dict[str, GraphQLField]:
        fields: dict[str, GraphQLField] = {}
        for name, field in named.fields.items():
            if self.field_shown(named.name, name, field):
                fields[name] = self._field(named.name, name, field)
        return fields

    def _interface_fields(self, named: GraphQLInterfaceType) -> dict[str, GraphQLField]:
        """An interface keeps a field only where every implementation shown keeps it alike."""
        implementations = [self._named(t) for t in self._base.get_possible_types(named) if self.shows(t)]
        fields: dict[str, GraphQLField] = {}
        for name, field in named.fields.items():
            types = [getattr(impl, "fields", {}).get(name) for impl in implementations]
            if any(t is None for t in types):
                continue
            shapes = {str(get_nullable_type(t.type)) for t in types if t is not None}
            if len(shapes) != 1:
                continue
            nullable = any(not isinstance(t.type, GraphQLNonNull) for t in types if t is not None)
            rebuilt = self._output(field.type)
            kept = types[0].type if types and types[0] is not None else rebuilt
            fields[name] = GraphQLField(
                get_nullable_type(kept) if nullable else kept, args=field.args, resolve=field.resolve,
                description=field.description, deprecation_reason=field.deprecation_reason,
                extensions=field.extensions, ast_node=field.ast_node,
            )
        return fields

    def _field(self, owner: str, name: str, field: GraphQLField) -> GraphQLField:
        output: GraphQLOutputType = self._output(field.type)
        resolve = field.resolve
        description = field.description
        decisions = self._decisions.get(owner)
        if decisions is not None:
            key = record_key(field, name)
            decision = decisions.decision(key)
            if isinstance(decision, Mask):
                kind = self._policies.types[owner].fields[key].mask
                text = kind is not None and kind.kind not in KEEPS_TYPE
                nullable = cast(GraphQLOutputType, get_nullable_type(output))
                output = GraphQLString if text and is_leaf_type(get_named_type(output)) else nullable
                resolve = _masked(decision, key, field.resolve)
                description = f"{description or ''} (masked for this client: {decision.name})".strip()
            elif isinstance(decision, Deny):
                output = cast(GraphQLOutputType, get_nullable_type(output))
                resolve = _denied(owner, name, decision)
        return GraphQLField(
            output, args=field.args, resolve=resolve, description=description,
            deprecation_reason=field.deprecation_reason, extensions=field.extensions, ast_node=field.ast_node,
        )

    def _output(self, output: Any) -> Any:
        if isinstance(output, GraphQLNonNull):
            return GraphQLNonNull(self._output(output.of_type))
        if isinstance(output, GraphQLList):
            return GraphQLList(self._output(output.of_type))
        return self._named(output)


def _label(decision: Any) -> Decision:
    return "allow" if isinstance(decision, Allow) else "mask" if isinstance(decision, Mask) else "deny"


def _masked(decision: Mask, key: str, original: Callable[..., Any] | None) -> Callable[..., Any]:
    apply = decision.apply

    def masked(value: Any) -> Any:
        try:
            return apply(value)
        except Exception:  # noqa: BLE001  rule 6: a mask that cannot be applied withholds the value
            return None

    record_key = key if original is None else getattr(original, "record_key", None)
    if record_key is not None:
        def attribute(source: Any, info: Any) -> Any:
            return getattr(source, record_key, None) if original is None else original(source, info)

        def read(source: Any, info: Any) -> Any:
            return masked(source.get(record_key) if type(source) is dict else attribute(source, info))
        return reads_record(read, record_key, masked=True)  # a plain read and a mask: compiled

    resolver = original  # a field with no record key of its own has a resolver: it computes its value

    def computed(source: Any, info: Any, **args: Any) -> Any:
        value = resolver(source, info, **args) if resolver is not None else None
        if inspect.isawaitable(value):
            return _masked_later(value, masked)
        return masked(value)

    return computed


async def _masked_later(value: Any, masked: Callable[[Any], Any]) -> Any:
    return masked(await value)


def _denied(owner: str, name: str, decision: Deny) -> Callable[..., Any]:
    def deny(source: Any, info: Any, **args: Any) -> Any:
        raise FieldForbidden(owner, name, decision.reason, decision.missing)

    return deny
