"""``build_catalogue(schema, policies, bindings)``: the catalogue, generated, never maintained by hand.

Everything comes from three sources the hub already trusts at start-up: the graph (field names as
queried, types, descriptions), the loaded policies (owner, sharing class, scopes, masks, purposes,
legal basis, jurisdiction, update cycle) and the bindings (department titles). A field of the graph
without a policy, or a policy for a type the graph lacks, is a ``CatalogueError``: the catalogue
never shows something the hub would not enforce.
"""

from __future__ import annotations

from collections.abc import Mapping

import strawberry
from graphql import GraphQLObjectType, GraphQLSchema

from connectors.binding import Binding
from hub.catalogue.model import Catalogue, Department, FieldEntry, MaskEntry, Resource
from hub.catalogue.scopes import scope_entries
from hub.policy.graph import GraphField, classifiable_types
from hub.policy.masks_config import SECRET_PARAMS
from hub.policy.model import FieldPolicy, MaskSpec, Policies, TypePolicy
from hub.strawberry_bridge import graphql_schema


class CatalogueError(ValueError):
    """The schema, the policies and the bindings disagree: there is no honest catalogue to show."""


def build_catalogue(
    schema: strawberry.Schema | GraphQLSchema, policies: Policies, bindings: Mapping[str, Binding]
) -> Catalogue:
    graph = graphql_schema(schema)
    classifiable = classifiable_types(graph)
    stray = sorted(set(policies.types) - set(classifiable))
    if stray:
        raise CatalogueError(f"policies classify type(s) the graph does not have: {', '.join(stray)}")
    departments = tuple(Department(b.department, b.title, b.title_local) for _, b in sorted(bindings.items()))
    known = {d.id for d in departments}
    resources = []
    for name, fields in classifiable.items():
        policy = policies.types.get(name)
        if policy is None:
            raise CatalogueError(f"type {name} has no policy: it cannot be catalogued")
        if policy.department not in known:
            raise CatalogueError(f"type {name} is owned by {policy.department!r}, which has no binding")
        named = graph.type_map[name]
        assert isinstance(named, GraphQLObjectType)  # classifiable_types yields object types only
        resources.append(_resource(named, fields, policy))
    resources.sort(key=lambda r: (r.department, r.name))
    return Catalogue(departments, tuple(resources), scope_entries(policies, resources, departments))


def _resource(named: GraphQLObjectType, fields: Mapping[str, GraphField], policy: TypePolicy) -> Resource:
    entries = []
    for name, graph_field in fields.items():
        field_policy = policy.fields.get(name)
        if field_policy is None:
            raise CatalogueError(f"field {named.name}.{name} has no policy: it cannot be catalogued")
        entries.append(_field(named, graph_field, field_policy, policy))
    return Resource(
        name=named.name,
        description=named.description,
        department=policy.department,
        scope=policy.scope,
        purposes=tuple(sorted(policy.purposes)),
        jurisdiction=policy.jurisdiction,
        update_cycle=None if policy.update_cycle is None else policy.update_cycle.value,
        fields=tuple(entries),
    )


def _field(
    named: GraphQLObjectType, graph_field: GraphField, field_policy: FieldPolicy, policy: TypePolicy
) -> FieldEntry:
    definition = named.fields[graph_field.graphql_name]
    return FieldEntry(
        resource=named.name,
        field=graph_field.name,
        graphql_name=graph_field.graphql_name,
        graphql_type=str(definition.type),
        description=definition.description,
        department=policy.department,
        sharing=field_policy.sharing.value,
        scope=field_policy.scope,
        type_scope=policy.scope,
        mask=None if field_policy.mask is None else _mask(field_policy.mask),
        purposes=tuple(sorted(field_policy.purposes)),
        legal_basis=field_policy.legal_basis,
        jurisdiction=policy.jurisdiction,
        update_cycle=None if policy.update_cycle is None else policy.update_cycle.value,
    )


def _mask(spec: MaskSpec) -> MaskEntry:
    # MaskSpec.params already leaves the pseudonym key out; filtered again so a catalogue, which
    # anyone with console access may export, can never carry it.
    params = {name: value for name, value in spec.params.items() if name not in SECRET_PARAMS}
    return MaskEntry(spec.name, spec.kind, dict(sorted(params.items())))
