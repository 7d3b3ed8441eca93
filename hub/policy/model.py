"""Field policies as loaded: a sharing class, the scope that unlocks a field, a mask, purposes."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.policy.masks import Masker


class Sharing(enum.Enum):
    """China's government data sharing classes (docs/architecture.md, sharing classes)."""

    UNCONDITIONAL = "unconditional"
    CONDITIONAL = "conditional"
    NOT_SHARED = "not_shared"


class UpdateCycle(enum.Enum):
    """How often the owner updates a resource's data, as the catalogue tells consumers (closed set)."""

    REAL_TIME = "real-time"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"
    ON_CHANGE = "on change"


@dataclass(frozen=True, slots=True)
class MaskSpec:
    """A named mask as a policy configures it; ``params`` never holds a pseudonym key."""

    name: str
    kind: str
    params: Mapping[str, Any]
    apply: Masker


@dataclass(frozen=True, slots=True)
class FieldPolicy:
    name: str
    sharing: Sharing
    scope: str | None
    mask: MaskSpec | None
    purposes: frozenset[str]
    legal_basis: str | None
    is_leaf: bool


@dataclass(frozen=True, slots=True)
class TypePolicy:
    """One object type's policy: the scope to see it at all, purposes, row filter, its fields."""

    name: str
    department: str
    path: str
    scope: str
    purposes: frozenset[str]
    jurisdiction: str | None
    fields: Mapping[str, FieldPolicy]
    update_cycle: UpdateCycle | None = None


@dataclass(slots=True)
class Policies:
    """Every type's policy, the scopes the policy files declare, and the full catalogue."""

    types: Mapping[str, TypePolicy]
    declared_scopes: Mapping[str, str]
    catalogue: frozenset[str]
    # (scopes, purpose, type) -> decisions; filled by hub.policy.decide, never shared across types.
    decisions: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
