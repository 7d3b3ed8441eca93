"""The policy engine: declarative field policies (``policies/*.toml``), named masks, decisions.

docs/architecture.md, rules 1-3 and 6: the data owner decides, every field is classified, policy is applied
on read per caller, and what cannot be evaluated is denied.

- ``load_policies(directory, schema)`` -> ``Policies`` or ``PolicyError`` (file, line, field).
- ``full_scope_catalogue(bindings_dir, policies_dir)``: the bindings' scopes plus the declared ones.
- ``decide(policies, scopes, purpose, type_name)`` -> ``TypeDecisions`` (cached), which the caller's
  view of the schema applies (``hub.graphql.views``).
- ``build_mask(kind, params)`` and the maskers themselves, in ``hub.policy.masks``.
"""

from __future__ import annotations

from hub.policy.catalogue import full_scope_catalogue
from hub.policy.decide import ALLOW, Allow, Decision, Deny, Mask, TypeDecisions, decide
from hub.policy.errors import PolicyError
from hub.policy.loader import load_policies
from hub.policy.masks import MASK_KINDS, MaskConfigError, build_mask
from hub.policy.model import FieldPolicy, MaskSpec, Policies, Sharing, TypePolicy

__all__ = [
    "ALLOW",
    "MASK_KINDS",
    "Allow",
    "Decision",
    "Deny",
    "FieldPolicy",
    "Mask",
    "MaskConfigError",
    "MaskSpec",
    "Policies",
    "PolicyError",
    "Sharing",
    "TypeDecisions",
    "TypePolicy",
    "build_mask",
    "decide",
    "full_scope_catalogue",
    "load_policies",
]
