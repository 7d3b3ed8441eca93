"""A department's part of the one graph, projected into strawberry Federation types.

The one graph (``schema``) declares every type, field and resolver once. A subgraph is a projection of
it: for each type a department contributes to, a new strawberry type of the same GraphQL name that
carries only the fields that department contributes, with the same descriptions and resolvers, and
every reference to another projected type pointed at the subgraph's own copy. Nothing is declared
twice, so no subgraph can drift from the graph the hub serves at ``/graphql``.
"""

from __future__ import annotations

import types
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import strawberry
from strawberry.types.base import StrawberryList, StrawberryOptional, get_object_definition
from strawberry.types.enum import StrawberryEnumDefinition
from strawberry.types.field import StrawberryField
from strawberry.types.info import Info
from strawberry.types.lazy_type import LazyType

from connectors.base import Record
from schema.common import ctx
from schema.subgraphs.representations import accept, representation_fields, required_fields

TYPENAME = "__typename"
# the accepted representation (records' field names) -> the record the type's fields read.
Reference = Callable[[Info, Record], Awaitable[Record | None]]


@dataclass(frozen=True)
class Part:
    """One type of the one graph as a department serves it.

    ``fields`` are python names (None: all of them); key fields are always included. Fields an
    implementation inherits from a projected interface are not repeated here. ``resolvers`` replace
    the graph's resolver of a field, where this department answers it differently (with a reference
    to another department's entity, which that department's subgraph resolves).
    """

    origin: type
    fields: tuple[str, ...] | None = None
    keys: tuple[str, ...] = ()
    reference: Reference | None = None
    external: tuple[str, ...] = ()
    requires: Mapping[str, str] = field(default_factory=dict)
    resolvers: Mapping[str, Callable[..., Any]] = field(default_factory=dict)


def definition_of(cls: type) -> Any:
    return get_object_definition(cls, strict=True)


def own_fields(part: Part, inherited: set[str]) -> list[StrawberryField]:
    """The origin's fields this part serves (with its key and external fields), in the origin's order."""
    names = set(part.fields) if part.fields is not None else None
    keys = set(representation_fields(part.keys, ()).values())  # the key fields' record names
    chosen = []
    for f in definition_of(part.origin).fields:
        if f.python_name in inherited:
            continue
        if names is None or f.python_name in names or f.python_name in keys or f.python_name in part.external:
            chosen.append(f)
    missing = (names or set()) - {f.python_name for f in chosen}
    if missing:
        raise ValueError(f"{part.origin.__name__} has no fields {sorted(missing)}")
    return chosen


class Projection:
    """Builds the projected types of one subgraph; ``types`` maps origin classes to their copies."""

    def __init__(self, parts: list[Part], generics: Mapping[type, type]) -> None:
        self.parts = parts
        self.generics = generics
        self.types: dict[type, type] = {}

    def build(self) -> list[type]:
        # Shells first, so that fields can point at any projected type (the graph has cycles).
        for part in self.parts:
            bases = tuple(self.types[i.origin] for i in self._interfaces(part))
            self.types[part.origin] = type(definition_of(part.origin).name, bases, {})
        for part in self.parts:
            self._fill(part)
        # Interfaces before their implementations: strawberry reads a base's fields when decorating.
        ordered = sorted(self.parts, key=lambda p: not definition_of(p.origin).is_interface)
        return [self._decorate(part) for part in ordered]

    def _interfaces(self, part: Part) -> list[Any]:
        projected = {p.origin for p in self.parts}
        return [i for i in definition_of(part.origin).interfaces if i.origin in projected]

    def _inherited(self, part: Part) -> set[str]:
        return {f.python_name for i in self._interfaces(part) for f in i.fields}

    def _fill(self, part: Part) -> None:
        cls = self.types[part.origin]
        annotations: dict[str, Any] = {}
        for f in own_fields(part, self._inherited(part)):
            copy, graphql_type = self._field(part, f)
            if copy.base_resolver is None:
                annotations[f.python_name] = graphql_type
            setattr(cls, f.python_name, copy)
        cls.__annotations__ = annotations
        cls.__module__ = part.origin.__module__
        self._copy_type_resolution(part, cls)

    def _field(self, part: Part, f: StrawberryField) -> tuple[StrawberryField, Any]:
        """The subgraph's copy of a field: same name, description, resolver; its own types."""
        graphql_type = self.remap(f.type)
        resolver: Any = part.resolvers.get(f.python_name)
        if resolver is None and f.base_resolver is not None:
            resolver = f.base_resolver.wrapped_func
        requires = part.requires.get(f.python_name)
        options: dict[str, Any] = {
            "name": f.graphql_name, "description": f.description,
            "external": f.python_name in part.external, "requires": [requires] if requires else None,
        }
        if resolver is None:
            return strawberry.federation.field(**options), graphql_type
        return strawberry.federation.field(resolver=resolver, graphql_type=graphql_type, **options), graphql_type

    def _copy_type_resolution(self, part: Part, cls: type) -> None:
        origin: Any = part.origin  # the hooks are the class's own, named by strawberry, not declared
        origin_hooks = vars(origin)
        check = origin.is_type_of if "is_type_of" in origin_hooks else None
        hooks: dict[str, Any] = {} if check is None else {"is_type_of": check}
        if "resolve_type" in origin_hooks:
            hooks["resolve_type"] = origin.resolve_type
        if part.reference is not None:
            name = definition_of(part.origin).name
            hooks.update({"resolve_reference": _reference_resolver(part.reference, part, name),
                          "is_type_of": _entity_check(name, check)})
        for hook, value in hooks.items():
            setattr(cls, hook, value)

    def _decorate(self, part: Part) -> type:
        cls = self.types[part.origin]
        definition = definition_of(part.origin)
        if definition.is_interface:
            return strawberry.federation.interface(
                cls, name=definition.name, description=definition.description, keys=part.keys)
        return strawberry.federation.type(
            cls, name=definition.name, description=definition.description, keys=part.keys)

    def remap(self, t: Any) -> Any:
        """A resolved strawberry type with every projected type replaced by its subgraph copy."""
        if isinstance(t, StrawberryOptional):
            return self.remap(t.of_type) | None
        if isinstance(t, StrawberryList):
            return types.GenericAlias(list, (self.remap(t.of_type),))  # list[...] of a type known at run time
        if isinstance(t, LazyType):
            return self.remap(t.resolve_type())
        if isinstance(t, StrawberryEnumDefinition):
            return t.wrapped_cls
        definition = get_object_definition(t)
        if definition is not None and definition.concrete_of is not None:
            generic: Any = self.generics[definition.concrete_of.origin]  # a Generic class: subscripted
            args = tuple(self.remap(a) for a in definition.type_var_map.values())
            return generic[args]
        return self.types.get(t, t)


def _reference_resolver(reference: Reference, part: Part, name: str) -> classmethod[Any, Any, Any]:
    """``resolve_reference``: the representation checked against the caller's view, then ``reference``."""
    fields = representation_fields(part.keys, part.external)
    keys = frozenset(k for key in part.keys for k in key.split())
    required = required_fields(part.requires)

    async def resolve_reference(cls: type, /, info: Info, **representation: Any) -> Record | None:
        c = ctx(info)
        if not c.can_see(name):
            return None  # before any look-up: a type the caller cannot see says nothing of its keys
        record = await reference(info, accept(c, name, fields, keys, representation, required))
        # Tagged: ``_entities`` returns a union of plain records, told apart by this tag only.
        return None if record is None else {**record, TYPENAME: name}

    return classmethod(resolve_reference)


def _entity_check(name: str, check: Callable[[Any, Any], bool] | None) -> classmethod[Any, Any, Any]:
    """``is_type_of``: a tagged record is its tag's type; any other is judged as the graph does."""

    def is_type_of(cls: type, obj: Any, info: Any) -> bool:
        tag = obj.get(TYPENAME) if type(obj) is dict else None
        if tag is not None:
            return bool(tag == name)
        return True if check is None else check(obj, info)

    return classmethod(is_type_of)
