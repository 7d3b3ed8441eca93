"""What a grant request may name: each scope of the policies' catalogue with its owner (the
scope's department prefix) and its sharing class (conditional if any field it unlocks is)."""

from __future__ import annotations

import dataclasses

import schema
from hub.grants import grant_catalogue
from hub.policy import Sharing, load_policies
from hub.policy.catalogue import scope_sharing
from hub.settings import load_settings


def test_scopes_unlocking_a_conditional_field_are_conditional_and_owned_by_their_prefix() -> None:
    policies = load_policies(load_settings().policies_dir, schema.build_schema())
    catalogue = grant_catalogue(policies)
    assert set(catalogue) == set(policies.catalogue)
    assert catalogue["market.enterprise:read"] == ("market", "unconditional")
    assert catalogue["security.identity:read"] == ("security", "conditional")
    # Named on a field of market's Enterprise, but taxation's scope: taxation answers for it.
    assert catalogue["taxation.tax_registration:read"] == ("taxation", "conditional")
    assert catalogue["market.finance:read"] == ("market", "conditional")


def test_a_conditional_field_without_a_scope_of_its_own_makes_its_types_scope_conditional() -> None:
    policies = load_policies(load_settings().policies_dir, schema.build_schema())
    enterprise = policies.types["Enterprise"]
    assert scope_sharing(policies)[enterprise.scope] == "unconditional"
    name = dataclasses.replace(enterprise.fields["name"], sharing=Sharing.CONDITIONAL, scope=None)
    changed = dataclasses.replace(enterprise, fields={**enterprise.fields, "name": name})
    altered = dataclasses.replace(policies, types={**policies.types, "Enterprise": changed})
    assert scope_sharing(altered)[enterprise.scope] == "conditional"
