"""What the masked target must answer: the floor's JSON with the masks its narrower grant leaves on.

``bench.hub_server.MASKED_CALLER`` lacks ``market.finance:read`` and ``security.identity:read``, so
policies/market.toml bands an enterprise's registered capital (``capital_band``) and masks a
person's identity number and name. The masks and their parameters are read from the policy files,
as the hub reads them, and applied with the hub's own mask functions: the check says the hub put the
right mask on the right field of every row, not that a mask function is right (tests/policy does that).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.processes import ROOT
from hub.policy.masks import build_mask

Masker = Callable[[object], Any]
MASKED_FIELDS = {  # GraphQL field -> (policy type, policy field), as the scenarios name them
    "registeredCapital": ("Enterprise", "registered_capital"),
    "idNumber": ("Person", "id_number"),
    "name": ("Person", "name"),
}


def policy_masker(policy: dict[str, Any], type_name: str, field: str) -> Masker:
    rule = policy["types"][type_name]["fields"][field]
    name = rule["mask"]
    declared = policy.get("masks", {}).get(name)
    if declared is None:
        return build_mask(name)
    params = {k: v for k, v in declared.items() if k != "kind"}
    return build_mask(declared["kind"], params)


def maskers(policies_dir: Path = ROOT / "policies") -> dict[str, Masker]:
    market = tomllib.loads((policies_dir / "market.toml").read_text(encoding="utf-8"))
    return {graphql: policy_masker(market, *where) for graphql, where in MASKED_FIELDS.items()}


PERSON_FIELDS = frozenset({"idNumber", "name"})  # masked on a person; an enterprise's name is not
PERSON_HOLDERS = frozenset({"legalRepresentative"})  # the scenarios' fields that hold a person


def masked(expected: Any, masks: dict[str, Masker], in_person: bool = False) -> Any:
    """The floor's answer with each masked field replaced by its mask of the floor's value."""
    if isinstance(expected, list):
        return [masked(item, masks, in_person) for item in expected]
    if not isinstance(expected, dict):
        return expected
    out = {}
    for key, value in expected.items():
        if key in masks and (in_person or key not in PERSON_FIELDS):
            out[key] = masks[key](value)
        else:
            out[key] = masked(value, masks, key in PERSON_HOLDERS)
    return out
