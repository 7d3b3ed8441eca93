"""Loading policies: the demo set covers the graph; every kind of mistake names file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import GraphQLSchema

from hub.policy import Policies, PolicyError, Sharing, load_policies
from hub.policy.graph import classifiable_types
from hub.policy.lines import key_lines
from tests.policy.conftest import Edit, line_number


def load_error(policy_dir: Path, graph: GraphQLSchema) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        load_policies(policy_dir, graph)
    return caught.value


def assert_names(error: PolicyError, path: Path, line: int, *words: str) -> None:
    assert (Path(error.path), error.line) == (path, line), str(error)
    assert str(error).startswith(f"{path}:{line}: ")
    for word in words:
        assert word in str(error)


def test_the_demo_policies_classify_every_field_of_every_object_type(
    policies: Policies, graph: GraphQLSchema
) -> None:
    expected = {name: set(fields) for name, fields in classifiable_types(graph).items()}
    assert {name: set(policy.fields) for name, policy in policies.types.items()} == expected


def test_root_query_introspection_and_pagination_plumbing_are_exempt(graph: GraphQLSchema) -> None:
    classified = set(classifiable_types(graph))
    exempt = {
        "Query",
        "__Type",
        "PageInfo",
        "EnterpriseConnection",
        "EnterpriseEdge",
        "LicenceEdge",
        "Licence",
    }
    assert not classified & exempt
    assert {"Enterprise", "Person", "TaxRegistration", "CaseStage"} <= classified


def test_a_malformed_file_names_the_line_the_parser_stopped_at(
    policy_dir: Path, graph: GraphQLSchema, edit: Edit
) -> None:
    path = edit("market.toml", 'approval_date = "unconditional"', "approval_date = unconditional")
    error = load_error(policy_dir, graph)
    assert_names(error, path, line_number(path, "approval_date = unconditional"), "malformed TOML")


def test_an_unclassified_field_is_named_on_its_types_fields_table(
    policy_dir: Path, graph: GraphQLSchema, edit: Edit
) -> None:
    path = edit("market.toml", 'approval_date = "unconditional"\n', "")
    error = load_error(policy_dir, graph)
    assert_names(
        error,
        path,
        line_number(path, "[types.Enterprise.fields]"),
        "Enterprise.approval_date",
        "unclassified",
    )


def test_a_field_the_graph_does_not_have_is_named_on_its_line(
    policy_dir: Path, graph: GraphQLSchema, edit: Edit
) -> None:
    path = edit(
        "taxation.toml",
        'tax_authority = "unconditional"',
        'tax_authority = "unconditional"\nrefund_account = "conditional"',
    )
    error = load_error(policy_dir, graph)
    assert_names(
        error,
        path,
        line_number(path, 'refund_account = "conditional"'),
        "TaxRegistration",
        "'refund_account'",
    )


def test_a_type_the_graph_does_not_have_is_named_on_its_header(
    policy_dir: Path, graph: GraphQLSchema, edit: Edit
) -> None:
    path = edit("housing.toml", "[types.ConstructionPermit]\n", "[types.BuildingPermit]\n")
    error = load_error(policy_dir, graph)
    assert_names(error, path, line_number(path, "[types.BuildingPermit]"), "'BuildingPermit'")


def test_a_mask_that_does_not_exist_is_named_with_its_field(
    policy_dir: Path, graph: GraphQLSchema, edit: Edit
) -> None:
    path = edit("security.toml", 'mask = "suppress"', 'mask = "blur"')
    error = load_error(policy_dir, graph)
    line = line_number(
        path, 'status = { sharing = "conditional", scope = "security.identity:read", mask = "blur" }'
    )
    assert_names(error, path, line, "IdentityVerification.status", "'blur'")


def test_a_misconfigured_mask_is_named_on_its_parameter(
    policy_dir: Path, graph: GraphQLSchema, edit: Edit
) -> None:
    path = edit("housing.toml", "edges = [100, 1000, 10000, 100000]", "edges = [100, 10]")
    error = load_error(policy_dir, graph)
    assert_names(error, path, line_number(path, "edges = [100, 10]"), "price_band", "increasing")


def test_a_field_scope_outside_the_catalogue_is_named_with_its_field(
    policy_dir: Path, graph: GraphQLSchema, edit: Edit
) -> None:
    path = edit("housing.toml", 'scope = "housing.finance:read", mask', 'scope = "housing.money:read", mask')
    error = load_error(policy_dir, graph)
    line = line_number(
        path,
        'contract_price = { sharing = "conditional", scope = "housing.money:read", mask = "price_band" }',
    )
    assert_names(error, path, line, "ConstructionPermit.contract_price", "'housing.money:read'", "catalogue")


def test_a_type_scope_outside_the_catalogue_is_named_on_its_line(
    policy_dir: Path, graph: GraphQLSchema, edit: Edit
) -> None:
    path = edit("ecology.toml", 'scope = "ecology.discharge_permit:read"', 'scope = "ecology.permit:read"')
    error = load_error(policy_dir, graph)
    assert_names(error, path, line_number(path, 'scope = "ecology.permit:read"'), "'ecology.permit:read'")


def test_a_department_cannot_declare_a_scope_under_another_departments_name(
    policy_dir: Path, graph: GraphQLSchema, edit: Edit
) -> None:
    path = edit("housing.toml", '"housing.finance:read" =', '"taxation.finance:read" =')
    error = load_error(policy_dir, graph)
    line = line_number(
        path,
        '"taxation.finance:read" = "A construction project\'s contract price as agreed (others see a band)."',
    )
    assert_names(error, path, line, "housing.<name>:read")


def test_a_not_shared_field_must_cite_its_legal_basis(
    policy_dir: Path, graph: GraphQLSchema, edit: Edit
) -> None:
    path = edit("ecology.toml", 'pollutants = "unconditional"', 'pollutants = "not_shared"')
    error = load_error(policy_dir, graph)
    assert_names(
        error,
        path,
        line_number(path, 'pollutants = "not_shared"'),
        "PollutantDischargePermit.pollutants",
        "legal_basis",
    )


def test_an_unknown_sharing_class_is_named_with_its_field(
    policy_dir: Path, graph: GraphQLSchema, edit: Edit
) -> None:
    path = edit("ecology.toml", 'pollutants = "unconditional"', 'pollutants = "public"')
    error = load_error(policy_dir, graph)
    assert_names(
        error,
        path,
        line_number(path, 'pollutants = "public"'),
        "PollutantDischargePermit.pollutants",
        "'public'",
    )


def test_a_misspelt_key_in_a_type_table_is_named_on_its_line(
    policy_dir: Path, graph: GraphQLSchema, edit: Edit
) -> None:
    path = edit("ecology.toml", 'jurisdiction = "region_code"', 'jurisdication = "region_code"')
    error = load_error(policy_dir, graph)
    assert_names(error, path, line_number(path, 'jurisdication = "region_code"'), "'jurisdication'")


def test_an_unconditional_field_cannot_carry_a_finer_scope(
    policy_dir: Path, graph: GraphQLSchema, edit: Edit
) -> None:
    old = 'floor_area = "unconditional"'
    new = 'floor_area = { sharing = "unconditional", scope = "housing.finance:read" }'
    path = edit("housing.toml", old, new)
    error = load_error(policy_dir, graph)
    assert_names(error, path, line_number(path, new), "ConstructionPermit.floor_area", "conditional")


def test_a_relation_is_allowed_or_denied_never_masked(
    policy_dir: Path, graph: GraphQLSchema, edit: Edit
) -> None:
    old = 'holder = "unconditional"'
    new = 'holder = { sharing = "conditional", scope = "market.enterprise:read", mask = "suppress" }'
    path = edit("ecology.toml", old, new)
    error = load_error(policy_dir, graph)
    assert_names(error, path, line_number(path, new), "PollutantDischargePermit.holder", "relation")


def test_a_type_classified_in_two_files_is_named_in_the_second(
    policy_dir: Path, graph: GraphQLSchema
) -> None:
    path = policy_dir / "ecology.toml"
    path.write_text(
        path.read_text(encoding="utf-8") + '\n[types.Material]\nscope = "centre.matter_material:read"\n'
        'purposes = ["licensing"]\n[types.Material.fields]\nname = "unconditional"\n'
        'required = "unconditional"\nformat = "unconditional"\nhub_supplied = "unconditional"\n',
        encoding="utf-8",
    )
    error = load_error(policy_dir, graph)
    assert_names(error, path, line_number(path, "[types.Material]"), "centre.toml")


def test_a_type_no_file_classifies_stops_the_load_naming_the_type(
    policy_dir: Path, graph: GraphQLSchema
) -> None:
    (policy_dir / "ecology.toml").write_text("# nothing classified\n", encoding="utf-8")
    error = load_error(policy_dir, graph)
    assert error.path == str(policy_dir)
    assert "PollutantDischargePermit" in str(error)


def test_a_file_named_after_no_department_is_refused(policy_dir: Path, graph: GraphQLSchema) -> None:
    path = policy_dir / "finance.toml"
    path.write_text("[scopes]\n", encoding="utf-8")
    assert_names(load_error(policy_dir, graph), path, 1, "finance.toml")


def test_loaded_classes_follow_the_file(policies: Policies) -> None:
    grade = policies.types["TaxRegistration"].fields["credit_grade"]
    note = policies.types["CaseStage"].fields["note"]
    assert (grade.sharing, grade.scope) == (Sharing.CONDITIONAL, "taxation.credit:read")
    assert note.sharing is Sharing.NOT_SHARED and note.legal_basis


def test_key_lines_are_not_fooled_by_multi_line_arrays_and_inline_tables() -> None:
    text = '[types.A]\npurposes = [\n  "x = y",\n  "z",\n]\nscope = "s"\n[types.A.fields]\nf = { a = 1 }\n'
    lines = key_lines(text)
    assert lines[("types", "A", "purposes")] == 2
    assert lines[("types", "A", "scope")] == 6
    assert lines[("types", "A", "fields", "f")] == 8
    assert ("types", "A", "x") not in lines
