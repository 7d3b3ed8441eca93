"""The policy engine: declarative field policies (``policies/*.toml``), named masks, decisions.

DESIGN.md rules 1-3 and 6: the data owner decides, every field is classified, policy is applied
on read per caller, and what cannot be evaluated is denied.

- ``load_policies(directory, schema)`` -> ``Policies`` or ``PolicyError`` (file, line, field).
- ``full_scope_catalogue(bindings_dir, policies_dir)``: the bindings' scopes plus the declared ones.
- ``build_mask(kind, params)`` and the maskers themselves, in ``hub.policy.masks``.
"""

from __future__ import annotations

from hub.policy.catalogue import full_scope_catalogue
from hub.policy.errors import PolicyError
from hub.policy.loader import load_policies
from hub.policy.masks import MASK_KINDS, MaskConfigError, build_mask
from hub.policy.model import FieldPolicy, MaskSpec, Policies, Sharing, TypePolicy

__all__ = [
    "MASK_KINDS",
    "FieldPolicy",
    "MaskConfigError",
    "MaskSpec",
    "Policies",
    "PolicyError",
    "Sharing",
    "TypePolicy",
    "build_mask",
    "full_scope_catalogue",
    "load_policies",
]
