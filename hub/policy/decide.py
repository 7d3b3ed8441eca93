"""Field decisions for one caller, and the caller's view of a raw record.

``decide(policies, scopes, purpose, type_name)`` answers, for every field of a type, allow, mask
(named, with its parameters) or deny (which scope or purpose is missing, or not shared at all).
It is pure and cached per (scopes, purpose, type): a resolver pays one dict lookup per record
type per request, never a per-field evaluation. ``view(record, decisions)`` builds a new dict in
one pass (the raw record, shared through the cache by every caller, is never touched); denied
fields are absent. ``admits(record, prefix, decisions)`` is the row filter on jurisdiction.

For one field, in order: not shared -> deny; purpose not allowed -> deny; the type's scope not
granted -> deny; the field's scope granted -> allow; a mask configured -> mask; else deny.
Anything not in the policies (a type, a field, a scope) is denied: deny by default.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from hub.policy.masks import Masker
from hub.policy.model import FieldPolicy, Policies, Sharing, TypePolicy

MAX_CACHED = 4096
_ABSENT = object()


@dataclass(frozen=True, slots=True)
class Allow:
    pass


@dataclass(frozen=True, slots=True)
class Mask:
    name: str
    params: Mapping[str, Any]
    apply: Masker


@dataclass(frozen=True, slots=True)
class Deny:
    """``reason`` says what kind of thing is missing; ``missing`` names it (a scope, the purposes)."""

    reason: Literal["scope", "purpose", "not_shared", "unclassified"]
    missing: str


Decision = Allow | Mask | Deny
ALLOW = Allow()
UNCLASSIFIED = Deny("unclassified", "a policy for this field")


@dataclass(frozen=True, slots=True)
class TypeDecisions:
    """One caller's decisions over one type, with the plan ``view`` follows (shown leaf fields)."""

    type_name: str
    fields: Mapping[str, Decision]
    jurisdiction: str | None
    plan: tuple[tuple[str, Masker | None], ...]

    def decision(self, field: str) -> Decision:
        return self.fields.get(field, UNCLASSIFIED)

    def apply(self, field: str, value: Any) -> Any:
        """A computed value (``sex``, ``birth_date``) as this caller may see it; denied -> None."""
        decision = self.fields.get(field, UNCLASSIFIED)
        if isinstance(decision, Allow):
            return value
        if isinstance(decision, Mask):
            return _masked(decision.apply, value)
        return None


def field_decision(policy: TypePolicy, field: FieldPolicy, scopes: Collection[str], purpose: str) -> Decision:
    if field.sharing is Sharing.NOT_SHARED:
        return Deny("not_shared", field.legal_basis or "")
    if purpose not in field.purposes:
        return Deny("purpose", ", ".join(sorted(field.purposes)))
    if policy.scope not in scopes:
        return Deny("scope", policy.scope)
    if field.scope in scopes:
        return ALLOW
    if field.mask is not None:
        return Mask(field.mask.name, field.mask.params, field.mask.apply)
    return Deny("scope", field.scope or policy.scope)


def _plan(fields: Mapping[str, Decision], policy: TypePolicy) -> tuple[tuple[str, Masker | None], ...]:
    plan: list[tuple[str, Masker | None]] = []
    for name, decision in fields.items():
        if not policy.fields[name].is_leaf:
            continue
        if isinstance(decision, Allow):
            plan.append((name, None))
        elif isinstance(decision, Mask):
            plan.append((name, decision.apply))
    return tuple(plan)


def _compute(policies: Policies, scopes: frozenset[str], purpose: str, type_name: str) -> TypeDecisions:
    policy = policies.types.get(type_name)
    if policy is None:
        return TypeDecisions(type_name, MappingProxyType({}), None, ())
    fields = {name: field_decision(policy, field, scopes, purpose) for name, field in policy.fields.items()}
    return TypeDecisions(type_name, MappingProxyType(fields), policy.jurisdiction, _plan(fields, policy))


def decide(policies: Policies, scopes: Collection[str], purpose: str, type_name: str) -> TypeDecisions:
    """The caller's decisions for a type; pass scopes as a frozenset to hit the cache directly."""
    granted = scopes if isinstance(scopes, frozenset) else frozenset(scopes)
    key = (granted, purpose, type_name)
    cached: TypeDecisions | None = policies.decisions.get(key)
    if cached is None:
        cached = _compute(policies, granted, purpose, type_name)
        if len(policies.decisions) >= MAX_CACHED:
            policies.decisions.clear()
        policies.decisions[key] = cached
    return cached


def _masked(mask: Masker, value: Any) -> Any:
    try:
        return mask(value)
    except Exception:  # noqa: BLE001  rule 6: a mask that cannot be applied withholds the value
        return None


def view(record: Mapping[str, Any] | None, decisions: TypeDecisions) -> dict[str, Any] | None:
    """A new dict with the fields this caller may see, masks applied; the record is not touched."""
    if record is None:
        return None
    shown: dict[str, Any] = {}
    for key, mask in decisions.plan:
        value = record.get(key, _ABSENT)
        if value is _ABSENT:
            continue
        shown[key] = value if mask is None else _masked(mask, value)
    return shown


def admits(record: Mapping[str, Any], jurisdiction_prefix: str, decisions: TypeDecisions) -> bool:
    """Row filter: the record's division code starts with the caller's prefix ("" = everywhere).

    A type without a jurisdiction field is not row-filtered; a record of a filtered type without a
    division code is not admitted (fail closed).
    """
    if decisions.jurisdiction is None:
        return True
    code = record.get(decisions.jurisdiction)
    return isinstance(code, str) and code.startswith(jurisdiction_prefix)
