"""The full scope catalogue: the bindings' entity scopes plus the finer scopes the policies declare."""

from __future__ import annotations

from pathlib import Path

from hub.oauth.catalogue import scope_catalogue
from hub.policy import Policies, full_scope_catalogue
from hub.policy.loader import DEFAULT_BINDINGS_DIR
from tests.policy.conftest import POLICIES_DIR


def test_the_full_catalogue_is_the_bindings_scopes_plus_the_declared_ones(policies: Policies) -> None:
    full = full_scope_catalogue(DEFAULT_BINDINGS_DIR, POLICIES_DIR)
    assert full == scope_catalogue(DEFAULT_BINDINGS_DIR) | set(policies.declared_scopes)
    assert full == policies.catalogue


def test_domain_finer_scopes_are_declared_with_a_description(policies: Policies) -> None:
    for scope in ("security.identity:read", "taxation.credit:read", "market.finance:read"):
        assert policies.declared_scopes[scope].strip()


def test_every_scope_a_policy_names_is_in_the_catalogue(policies: Policies) -> None:
    named = {p.scope for p in policies.types.values()}
    named |= {f.scope for p in policies.types.values() for f in p.fields.values() if f.scope is not None}
    assert named <= policies.catalogue


def test_every_declared_scope_unlocks_something(policies: Policies) -> None:
    named = {f.scope for p in policies.types.values() for f in p.fields.values()}
    assert set(policies.declared_scopes) <= named


def test_policy_files_live_one_per_department() -> None:
    assert {p.stem for p in Path(POLICIES_DIR).glob("*.toml")} == {
        "centre",
        "ecology",
        "housing",
        "market",
        "security",
        "taxation",
    }
