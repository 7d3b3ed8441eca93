"""Each resource's update cycle: declared in its policy, from a closed set, checked at load."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import GraphQLSchema

from hub.policy import Policies, PolicyError, load_policies
from hub.policy.model import UpdateCycle
from tests.policy.conftest import Edit, line_number


def test_every_demo_type_declares_an_update_cycle(policies: Policies) -> None:
    undeclared = sorted(name for name, policy in policies.types.items() if policy.update_cycle is None)
    assert undeclared == []


def test_the_demo_cycles_follow_how_each_register_changes(policies: Policies) -> None:
    cycles = {name: policy.update_cycle for name, policy in policies.types.items()}
    assert cycles["Enterprise"] is UpdateCycle.ON_CHANGE  # a registration changes when it is amended
    assert cycles["TaxRegistration"] is UpdateCycle.MONTHLY
    assert cycles["IdentityVerification"] is UpdateCycle.REAL_TIME
    assert cycles["Case"] is UpdateCycle.REAL_TIME


def test_the_cycle_is_optional_a_type_without_one_has_none(
    policy_dir: Path, graph: GraphQLSchema, edit: Edit
) -> None:
    edit("ecology.toml", 'update_cycle = "on change"\n', "")
    loaded = load_policies(policy_dir, graph)
    assert loaded.types["PollutantDischargePermit"].update_cycle is None
    assert loaded.types["ConstructionPermit"].update_cycle is UpdateCycle.ON_CHANGE


@pytest.mark.parametrize("value", ['"hourly"', '"On Change"', '"on_change"', '""', "7", '["daily"]'])
def test_a_cycle_outside_the_closed_set_stops_loading_on_its_line(
    policy_dir: Path, graph: GraphQLSchema, edit: Edit, value: str
) -> None:
    path = edit("housing.toml", 'update_cycle = "on change"', f"update_cycle = {value}")
    with pytest.raises(PolicyError) as caught:
        load_policies(policy_dir, graph)
    line = line_number(path, f"update_cycle = {value}")
    assert str(caught.value).startswith(f"{path}:{line}: ConstructionPermit: update_cycle must be one of ")
    assert "'on change'" in str(caught.value)


def test_a_cycle_is_declared_per_type_not_per_field(
    policy_dir: Path, graph: GraphQLSchema, edit: Edit
) -> None:
    old = 'floor_area = "unconditional"'
    new = 'floor_area = { sharing = "unconditional", update_cycle = "yearly" }'
    path = edit("housing.toml", old, new)
    with pytest.raises(PolicyError) as caught:
        load_policies(policy_dir, graph)
    assert str(caught.value).startswith(f"{path}:{line_number(path, new)}: unknown key 'update_cycle'")
