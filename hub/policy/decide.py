"""Field decisions for one caller.

``decide(policies, scopes, purpose, type_name)`` answers, for every field of a type, allow, mask
(named, with its parameters) or deny (which scope or purpose is missing, or not shared at all).
It is pure and cached per (scopes, purpose, type). The decisions are applied once per caller, to
the schema (``hub.graphql.views``), never per record; rows are filtered on the data path
(``hub.data.records``).

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
    """One caller's decisions over one type."""

    type_name: str
    fields: Mapping[str, Decision]

    def decision(self, field: str) -> Decision:
        return self.fields.get(field, UNCLASSIFIED)


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


def _compute(policies: Policies, scopes: frozenset[str], purpose: str, type_name: str) -> TypeDecisions:
    policy = policies.types.get(type_name)
    if policy is None:
        return TypeDecisions(type_name, MappingProxyType({}))
    fields = {name: field_decision(policy, field, scopes, purpose) for name, field in policy.fields.items()}
    return TypeDecisions(type_name, MappingProxyType(fields))


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

