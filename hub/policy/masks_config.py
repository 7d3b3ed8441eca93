"""The masks a policy file can name: every built-in kind with its defaults, plus its ``[masks.*]``.

``[masks.capital_band]`` with ``kind = "amount_band"`` and ``edges = [...]`` configures a named
mask once; fields then say ``mask = "capital_band"``. A built-in kind is usable by its own name
with its defaults, except ``pseudonym``, which has no default key and must be configured.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from hub.policy.masks import MASK_KINDS, MaskConfigError, build_mask
from hub.policy.model import MaskSpec
from hub.policy.params import REQUIRED
from hub.policy.source import PolicyFile

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# Parameters that configure a mask but are not shown where decisions are reported (audit, errors).
SECRET_PARAMS = frozenset({"key"})


def builtin_masks() -> dict[str, MaskSpec]:
    return {
        kind: MaskSpec(kind, kind, MappingProxyType({}), build_mask(kind))
        for kind in sorted(MASK_KINDS - REQUIRED.keys())
    }


def _configured(file: PolicyFile, name: str, value: Any) -> MaskSpec:
    key = ("masks", name)
    if not _NAME.match(name) or name in MASK_KINDS:
        raise file.error(key, f"mask name {name!r} must be lower_snake_case and not a built-in kind")
    if not isinstance(value, dict) or "kind" not in value:
        raise file.error(key, f"[masks.{name}] must be a table with a 'kind'")
    kind = value["kind"]
    params = {k: v for k, v in value.items() if k != "kind"}
    try:
        apply = build_mask(kind, params)
    except MaskConfigError as exc:
        raise file.error(key + (exc.param,), f"mask {name}: {exc.problem}") from None
    shown = {k: v for k, v in params.items() if k not in SECRET_PARAMS}
    return MaskSpec(name, kind, MappingProxyType(shown), apply)


def file_masks(file: PolicyFile) -> Mapping[str, MaskSpec]:
    """The masks one file's fields may name: the built-ins and the file's own ``[masks.*]``."""
    declared = file.data.get("masks", {})
    if not isinstance(declared, dict):
        raise file.error(("masks",), "masks must be a table of [masks.<name>] tables")
    masks = builtin_masks()
    masks.update({name: _configured(file, name, value) for name, value in declared.items()})
    return MappingProxyType(masks)
