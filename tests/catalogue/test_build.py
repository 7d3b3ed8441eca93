"""The catalogue is generated from the graph, the policies and the bindings, and says what they say."""

from __future__ import annotations

import dataclasses
import shutil
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import pytest
from graphql import GraphQLSchema

from connectors.binding import Binding
from hub.catalogue import Catalogue, CatalogueError, FieldEntry, build_catalogue, load_catalogue, to_json
from hub.policy import Policies
from hub.policy.graph import classifiable_types
from hub.policy.loader import DEFAULT_BINDINGS_DIR
from tests.policy.conftest import Edit


@pytest.fixture(scope="module")
def catalogue(graph: GraphQLSchema, policies: Policies, bindings: Mapping[str, Binding]) -> Catalogue:
    return build_catalogue(graph, policies, bindings)


def field(catalogue: Catalogue, resource: str, name: str) -> FieldEntry:
    matches = [f for f in catalogue.fields() if (f.resource, f.field) == (resource, name)]
    assert len(matches) == 1, matches
    return matches[0]


def test_every_field_of_the_graph_appears_exactly_once(catalogue: Catalogue, graph: GraphQLSchema) -> None:
    expected = Counter(
        (type_name, f.graphql_name)
        for type_name, fields in classifiable_types(graph).items()
        for f in fields.values()
    )
    listed = Counter((f.resource, f.graphql_name) for f in catalogue.fields())
    assert listed == expected
    assert max(listed.values()) == 1


def test_a_conditional_field_shows_its_scope_mask_and_graphql_name(catalogue: Catalogue) -> None:
    capital = field(catalogue, "Enterprise", "registered_capital")
    assert (capital.graphql_name, capital.graphql_type) == ("registeredCapital", "Float!")
    assert capital.description == "Registered capital, 10,000 CNY."
    assert (capital.department, capital.sharing) == ("market", "conditional")
    assert (capital.scope, capital.type_scope) == ("market.finance:read", "market.enterprise:read")
    assert capital.mask is not None
    assert (capital.mask.name, capital.mask.kind) == ("capital_band", "amount_band")
    assert capital.mask.params == {"edges": [10, 100, 500, 1000, 5000, 10000]}
    assert (capital.jurisdiction, capital.update_cycle) == ("region_code", "on change")
    assert "licensing" in capital.purposes and list(capital.purposes) == sorted(capital.purposes)


def test_an_unconditional_field_is_unlocked_by_its_types_scope_without_a_mask(catalogue: Catalogue) -> None:
    name = field(catalogue, "Enterprise", "name")
    assert (name.sharing, name.scope, name.mask) == ("unconditional", "market.enterprise:read", None)


def test_a_not_shared_field_cites_its_legal_basis_and_no_scope(catalogue: Catalogue) -> None:
    note = field(catalogue, "CaseStage", "note")
    assert (note.sharing, note.scope, note.mask, note.purposes) == ("not_shared", None, None, ())
    assert note.legal_basis is not None and note.legal_basis.startswith("政府信息公开条例")


def test_a_field_with_fewer_purposes_than_its_type_lists_its_own(catalogue: Catalogue) -> None:
    grade = field(catalogue, "TaxRegistration", "credit_grade")
    assert grade.purposes == ("credit_supervision", "licensing", "tax_administration")
    assert grade.update_cycle == "monthly"
    resource = next(r for r in catalogue.resources if r.name == "TaxRegistration")
    assert set(grade.purposes) < set(resource.purposes)


def test_a_pseudonym_mask_shows_its_kind_and_length_never_its_key(catalogue: Catalogue) -> None:
    applicant = field(catalogue, "Case", "applicant_id")
    assert applicant.mask is not None
    assert (applicant.mask.name, applicant.mask.kind) == ("applicant_pseudonym", "pseudonym")
    assert applicant.mask.params == {"length": 16}
    assert b"demo-only-applicant-pseudonym-key" not in to_json(catalogue)


def test_resources_carry_the_owner_and_the_owners_titles_come_from_the_bindings(catalogue: Catalogue) -> None:
    enterprise = next(r for r in catalogue.resources if r.name == "Enterprise")
    assert enterprise.department == "market"
    assert enterprise.description == "An enterprise or other registered market entity, keyed by its USCC."
    market = catalogue.department("market")
    assert (market.title, market.title_local) == ("Market Regulation", "市场监督管理局")
    assert [r.department for r in catalogue.resources] == sorted(r.department for r in catalogue.resources)


def test_every_scope_of_the_catalogue_is_listed_once_with_its_owner(
    catalogue: Catalogue, policies: Policies
) -> None:
    assert [s.scope for s in catalogue.scopes] == sorted(policies.catalogue)
    assert all(s.scope.startswith(s.owner + ".") for s in catalogue.scopes)


def test_a_declared_scope_carries_the_description_its_owner_wrote(catalogue: Catalogue) -> None:
    finance = next(s for s in catalogue.scopes if s.scope == "market.finance:read")
    assert finance.description == "An enterprise's registered capital as registered (others see a band)."
    assert (finance.sharing, finance.types) == ("conditional", ())
    assert finance.unlocks == ("Enterprise.registeredCapital",)


def test_a_bindings_scope_is_described_from_the_resources_it_opens(catalogue: Catalogue) -> None:
    scope = next(s for s in catalogue.scopes if s.scope == "market.enterprise:read")
    assert scope.types == ("Enterprise",)
    assert scope.description.startswith("Market Regulation (市场监督管理局): Enterprise: An enterprise")
    assert "Enterprise.uscc" in scope.unlocks and "Enterprise.registeredCapital" not in scope.unlocks


def test_a_scope_is_conditional_when_any_field_it_unlocks_unmasked_is(catalogue: Catalogue) -> None:
    sharing = {s.scope: s.sharing for s in catalogue.scopes}
    assert sharing["market.enterprise:read"] == "unconditional"
    assert sharing["ecology.discharge_permit:read"] == "unconditional"
    assert sharing["taxation.credit:read"] == "conditional"
    # Enterprise.taxRegistration, a conditional relation, is unlocked by Taxation's type scope.
    assert sharing["taxation.tax_registration:read"] == "conditional"


def test_a_policy_changed_in_its_file_shows_up_changed_in_the_export(
    policy_dir: Path, edit: Edit, catalogue: Catalogue
) -> None:
    edit(
        "housing.toml",
        'floor_area = "unconditional"',
        'floor_area = { sharing = "conditional", scope = "housing.finance:read", mask = "price_band" }',
    )
    edit("housing.toml", 'update_cycle = "on change"', 'update_cycle = "quarterly"')
    changed = load_catalogue(policy_dir, DEFAULT_BINDINGS_DIR)
    area = field(changed, "ConstructionPermit", "floor_area")
    assert (area.sharing, area.scope, area.update_cycle) == (
        "conditional",
        "housing.finance:read",
        "quarterly",
    )
    assert area.mask is not None and area.mask.name == "price_band"
    assert field(catalogue, "ConstructionPermit", "floor_area").sharing == "unconditional"
    finance = next(s for s in changed.scopes if s.scope == "housing.finance:read")
    assert "ConstructionPermit.floorArea" in finance.unlocks
    assert b'"update_cycle": "quarterly"' in to_json(changed)
    assert b'"update_cycle": "quarterly"' not in to_json(catalogue)


def test_a_department_renamed_in_its_binding_shows_its_new_title(tmp_path: Path, policy_dir: Path) -> None:
    bindings_dir = tmp_path / "departments"
    shutil.copytree(DEFAULT_BINDINGS_DIR, bindings_dir)
    path = bindings_dir / "security.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace('"公安局"', '"公安局 (人口库)"'), encoding="utf-8"
    )
    renamed = load_catalogue(policy_dir, bindings_dir)
    assert renamed.department("security").title_local == "公安局 (人口库)"
    identity = next(s for s in renamed.scopes if s.scope == "security.identity_record:read")
    assert identity.description.startswith("Public Security (公安局 (人口库)): IdentityVerification")


def test_a_type_of_the_graph_without_a_policy_cannot_be_catalogued(
    graph: GraphQLSchema, policies: Policies, bindings: Mapping[str, Binding]
) -> None:
    partial = dataclasses.replace(
        policies, types=MappingProxyType({k: v for k, v in policies.types.items() if k != "Material"})
    )
    with pytest.raises(CatalogueError, match="type Material has no policy"):
        build_catalogue(graph, partial, bindings)


def test_a_field_of_the_graph_without_a_policy_cannot_be_catalogued(
    graph: GraphQLSchema, policies: Policies, bindings: Mapping[str, Binding]
) -> None:
    material = policies.types["Material"]
    fields = {k: v for k, v in material.fields.items() if k != "hub_supplied"}
    types = {**policies.types, "Material": dataclasses.replace(material, fields=fields)}
    with pytest.raises(CatalogueError, match="Material.hub_supplied has no policy"):
        build_catalogue(graph, dataclasses.replace(policies, types=types), bindings)


def test_a_policy_for_a_type_the_graph_lacks_cannot_be_catalogued(
    graph: GraphQLSchema, policies: Policies, bindings: Mapping[str, Binding]
) -> None:
    types = {**policies.types, "Vehicle": policies.types["Material"]}
    with pytest.raises(CatalogueError, match="Vehicle"):
        build_catalogue(graph, dataclasses.replace(policies, types=types), bindings)


def test_an_owner_without_a_binding_cannot_be_catalogued(
    graph: GraphQLSchema, policies: Policies, bindings: Mapping[str, Binding]
) -> None:
    without_ecology = {k: v for k, v in bindings.items() if k != "ecology"}
    with pytest.raises(CatalogueError, match="'ecology', which has no binding"):
        build_catalogue(graph, policies, without_ecology)


def test_every_scopes_sharing_follows_the_fields_it_unlocks(catalogue: Catalogue) -> None:
    by_name = {f"{f.resource}.{f.graphql_name}": f for f in catalogue.fields()}
    for scope in catalogue.scopes:
        unlocked = [by_name[name] for name in scope.unlocks]
        assert all(f.scope == scope.scope for f in unlocked)
        conditional = any(f.sharing == "conditional" for f in unlocked)
        assert scope.sharing == ("conditional" if conditional else "unconditional"), scope.scope
