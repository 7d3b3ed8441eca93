"""One type's policy from its ``[types.<Type>]`` table, checked against the graph and the catalogue."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.policy.graph import GraphField
from hub.policy.model import FieldPolicy, MaskSpec, Sharing, TypePolicy, UpdateCycle
from hub.policy.source import PolicyFile

TYPE_KEYS = frozenset({"scope", "purposes", "jurisdiction", "update_cycle", "fields"})
FIELD_KEYS = frozenset({"sharing", "scope", "mask", "purposes", "legal_basis"})
_PURPOSE = re.compile(r"^[a-z][a-z0-9_]*$")
_SHARING = {s.value: s for s in Sharing}
_CYCLES = {c.value: c for c in UpdateCycle}


def _label(key: tuple[str, ...]) -> str:
    """``Enterprise.registered_capital`` for ("types", "Enterprise", "fields", "registered_capital")."""
    return f"{key[1]}.{key[3]}" if len(key) >= 4 else ".".join(key)


@dataclass(frozen=True, slots=True)
class TypeContext:
    """What a field entry is checked against: its type's fields, defaults, the catalogue, the masks."""

    graph: Mapping[str, GraphField]
    scope: str
    purposes: frozenset[str]
    catalogue: frozenset[str]
    masks: Mapping[str, MaskSpec]


def _purposes(file: PolicyFile, key: tuple[str, ...], value: Any) -> frozenset[str]:
    if not isinstance(value, list) or not value or not all(isinstance(p, str) for p in value):
        raise file.error(key, f"{_label(key)} must be a non-empty list of purpose names")
    for purpose in value:
        if not _PURPOSE.match(purpose):
            raise file.error(key, f"purpose {purpose!r} must be lower_snake_case")
    return frozenset(value)


def _scope(file: PolicyFile, key: tuple[str, ...], value: Any, catalogue: frozenset[str]) -> str:
    scope = file.string(key, value)
    if scope not in catalogue:
        raise file.error(key, f"scope {scope!r} ({_label(key)}) is not in the scope catalogue")
    return scope


def _entry(file: PolicyFile, key: tuple[str, ...], value: Any) -> Mapping[str, Any]:
    if isinstance(value, str):
        return {"sharing": value}
    entry = file.table(key, value, FIELD_KEYS)
    if "sharing" not in entry:
        raise file.error(key, f"{_label(key)} needs a sharing class")
    return entry


def _sharing(file: PolicyFile, key: tuple[str, ...], value: Any) -> Sharing:
    if value not in _SHARING:
        raise file.error(key, f"{_label(key)}: sharing must be one of {', '.join(_SHARING)}, not {value!r}")
    return _SHARING[value]


def _not_shared(
    file: PolicyFile, key: tuple[str, ...], entry: Mapping[str, Any], graph: GraphField
) -> FieldPolicy:
    label = _label(key)
    for name in ("scope", "mask", "purposes"):
        if name in entry:
            raise file.error(key, f"{label} is not_shared: it takes no {name}")
    if "legal_basis" not in entry:
        raise file.error(key, f"{label} is not_shared and must cite its legal_basis")
    basis = file.string(key + ("legal_basis",), entry["legal_basis"])
    return FieldPolicy(graph.name, Sharing.NOT_SHARED, None, None, frozenset(), basis, graph.is_leaf)


def _mask(
    file: PolicyFile, key: tuple[str, ...], value: Any, masks: Mapping[str, MaskSpec], graph: GraphField
) -> MaskSpec:
    label = _label(key)
    name = file.string(key + ("mask",), value)
    if name not in masks:
        raise file.error(key, f"{label}: no mask named {name!r} (masks: {', '.join(sorted(masks))})")
    if not graph.is_leaf:
        raise file.error(key, f"{label} is a relation: it is allowed or denied, never masked")
    return masks[name]


def field_policy(file: PolicyFile, key: tuple[str, ...], value: Any, context: TypeContext) -> FieldPolicy:
    entry = _entry(file, key, value)
    sharing = _sharing(file, key, entry["sharing"])
    graph = context.graph[key[-1]]
    if sharing is Sharing.NOT_SHARED:
        return _not_shared(file, key, entry, graph)
    scope = _scope(file, key + ("scope",), entry.get("scope", context.scope), context.catalogue)
    mask = None if "mask" not in entry else _mask(file, key, entry["mask"], context.masks, graph)
    if sharing is Sharing.UNCONDITIONAL and (scope != context.scope or mask is not None):
        raise file.error(
            key,
            f"{_label(key)} is unconditional: the type's scope unlocks it, no finer "
            "scope nor mask applies (make it conditional)",
        )
    purposes = (
        context.purposes
        if "purposes" not in entry
        else _purposes(file, key + ("purposes",), entry["purposes"])
    )
    basis = None if "legal_basis" not in entry else file.string(key + ("legal_basis",), entry["legal_basis"])
    return FieldPolicy(graph.name, sharing, scope, mask, purposes, basis, graph.is_leaf)


def _fields(
    file: PolicyFile, key: tuple[str, ...], value: Any, context: TypeContext
) -> dict[str, FieldPolicy]:
    if not isinstance(value, dict):
        raise file.error(key, f"types.{key[1]}.fields must be a table")
    for name in value:
        if name not in context.graph:
            known = ", ".join(context.graph)
            raise file.error(key + (name,), f"{key[1]} has no field {name!r} (fields: {known})")
    table: Mapping[str, Any] = value
    fields = {name: field_policy(file, key + (name,), entry, context) for name, entry in table.items()}
    missing = [name for name in context.graph if name not in fields]
    if missing:
        type_name = key[1]
        listed = ", ".join(f"{type_name}.{name}" for name in missing)
        raise file.error(key, f"unclassified field {listed}: every field needs a sharing class")
    return fields


def _jurisdiction(file: PolicyFile, key: tuple[str, ...], value: Any, graph: Mapping[str, GraphField]) -> str:
    name = file.string(key, value)
    if name not in graph or not graph[name].is_leaf:
        raise file.error(key, f"jurisdiction {name!r} is not a field of {key[1]} holding a division code")
    return name


def _update_cycle(file: PolicyFile, key: tuple[str, ...], value: Any) -> UpdateCycle:
    if not isinstance(value, str) or value not in _CYCLES:
        known = ", ".join(repr(c) for c in _CYCLES)
        raise file.error(key, f"{key[1]}: update_cycle must be one of {known}, not {value!r}")
    return _CYCLES[value]


def type_policy(
    file: PolicyFile,
    type_name: str,
    value: Any,
    graph: Mapping[str, GraphField],
    catalogue: frozenset[str],
    masks: Mapping[str, MaskSpec],
) -> TypePolicy:
    key = ("types", type_name)
    table = file.table(key, value, TYPE_KEYS)
    for required in ("scope", "purposes", "fields"):
        if required not in table:
            raise file.error(key, f"[types.{type_name}] needs {required!r}")
    scope = _scope(file, key + ("scope",), table["scope"], catalogue)
    purposes = _purposes(file, key + ("purposes",), table["purposes"])
    context = TypeContext(graph, scope, purposes, catalogue, masks)
    jurisdiction = None
    if "jurisdiction" in table:
        jurisdiction = _jurisdiction(file, key + ("jurisdiction",), table["jurisdiction"], graph)
    cycle = None
    if "update_cycle" in table:
        cycle = _update_cycle(file, key + ("update_cycle",), table["update_cycle"])
    fields = _fields(file, key + ("fields",), table["fields"], context)
    return TypePolicy(
        type_name, file.department, str(file.path), scope, purposes, jurisdiction, fields, cycle
    )
