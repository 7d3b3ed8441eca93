"""The catalogue as generated: departments, resources and their fields, and the scopes that unlock them.

Plain frozen records, built by ``hub.catalogue.build`` from the schema, the policies and the
bindings; nothing here is written by hand. A mask appears by name, kind and parameters only: a
pseudonym key never reaches a catalogue entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Department:
    """A data owner: its binding's id and titles (``market``, Market Regulation, 市场监督管理局)."""

    id: str
    title: str
    title_local: str


@dataclass(frozen=True, slots=True)
class MaskEntry:
    """The mask a field gets when the caller holds the type's scope but not the field's."""

    name: str
    kind: str
    params: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class FieldEntry:
    """One field of a resource, as a consumer or a steward reads it in the catalogue.

    ``field`` is the record key the policies use (``registered_capital``), ``graphql_name`` the
    name a query uses (``registeredCapital``). ``scope`` unlocks the field unmasked; None for a
    field that is not shared.
    """

    resource: str
    field: str
    graphql_name: str
    graphql_type: str
    description: str | None
    department: str
    sharing: str
    scope: str | None
    type_scope: str
    mask: MaskEntry | None
    purposes: tuple[str, ...]
    legal_basis: str | None
    jurisdiction: str | None
    update_cycle: str | None


@dataclass(frozen=True, slots=True)
class Resource:
    """An object type of the graph, owned by the department whose policy file classifies it."""

    name: str
    description: str | None
    department: str
    scope: str
    purposes: tuple[str, ...]
    jurisdiction: str | None
    update_cycle: str | None
    fields: tuple[FieldEntry, ...]


@dataclass(frozen=True, slots=True)
class ScopeEntry:
    """A scope a client may be granted.

    ``sharing`` is "conditional" when any field it unlocks unmasked is conditional (its grant
    needs the owner's approval), else "unconditional". ``types`` are the resources it opens,
    ``unlocks`` the fields (``Type.graphqlName``) it shows unmasked.
    """

    scope: str
    owner: str
    description: str
    sharing: str
    types: tuple[str, ...]
    unlocks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Catalogue:
    departments: tuple[Department, ...]
    resources: tuple[Resource, ...]
    scopes: tuple[ScopeEntry, ...]
    # Limits and quotas as the registry holds them (``hub.fairuse.catalogue``); None: not read.
    fair_use: Mapping[str, Any] | None = None

    def fields(self) -> tuple[FieldEntry, ...]:
        """Every field of every resource, resource by resource (one CSV row each)."""
        return tuple(entry for resource in self.resources for entry in resource.fields)

    def department(self, department_id: str) -> Department:
        return next(d for d in self.departments if d.id == department_id)
