"""The masks a policy file can name: every built-in kind with its defaults, plus its ``[masks.*]``.

``[masks.capital_band]`` with ``kind = "amount_band"`` and ``edges = [...]`` configures a named
mask once; fields then say ``mask = "capital_band"``. A built-in kind is usable by its own name
with its defaults, except ``pseudonym``, which has no default key and must be configured.

A mask's key is a secret, and the policy files are read by every developer: ``key = "env:NAME"``
takes it from the environment variable NAME (16 characters or more), and ``development_key`` may
give the one a development hub uses while NAME is unset. Loading fails, naming the file and line,
when NAME is unset with no development key or is too short; a production hub refuses to start on
any key written in a policy file (``refuse_published_keys``), a literal ``key`` or the development one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from hub.policy.catalogue import policy_files
from hub.policy.errors import PolicyError
from hub.policy.masks import MASK_KINDS, MaskConfigError, build_mask
from hub.policy.model import MaskSpec
from hub.policy.params import PARAMS, REQUIRED
from hub.policy.source import PolicyFile, read_policy_file

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_VARIABLE = re.compile(r"^[A-Z][A-Z0-9_]*$")
ENV_PREFIX = "env:"
MIN_KEY_LENGTH = 16
# Parameters that configure a mask but are not shown where decisions are reported (audit, errors).
SECRET_PARAMS = frozenset({"key", "development_key"})


@dataclass(frozen=True, slots=True)
class MaskKey:
    """A mask's key as resolved, and where it came from: ``environment``, ``file`` or ``development``."""

    value: str
    origin: str
    variable: str | None = None


def mask_key(
    file: PolicyFile, name: str, params: Mapping[str, Any], environ: Mapping[str, str]
) -> MaskKey | None:
    """The key ``[masks.<name>]`` configures (None: it names none); a key it cannot have raises."""
    written, fallback = params.get("key"), params.get("development_key")
    is_reference = isinstance(written, str) and written.startswith(ENV_PREFIX)
    if fallback is not None and not is_reference:
        raise file.error(("masks", name, "development_key"),
                         f"mask {name}: development_key goes only with key = \"env:<VARIABLE>\"")
    if written is None:
        return None
    if not is_reference:
        return MaskKey(written, "file")  # build_mask checks its length; production refuses it
    variable = written.removeprefix(ENV_PREFIX)
    where = ("masks", name, "key")
    if not _VARIABLE.match(variable):
        raise file.error(where, f"mask {name}: key {written!r} must name an environment variable "
                                "(A-Z, 0-9, _)")
    if fallback is not None and (not isinstance(fallback, str) or len(fallback) < MIN_KEY_LENGTH):
        raise file.error(("masks", name, "development_key"),
                         f"mask {name}: development_key must be a string of {MIN_KEY_LENGTH} characters "
                         "or more")
    value = environ.get(variable)
    if not value:
        if fallback is None:
            raise file.error(where, f"mask {name}: the environment variable {variable} is not set "
                                    f"(the key: {MIN_KEY_LENGTH} characters or more)")
        return MaskKey(fallback, "development", variable)
    if len(value) < MIN_KEY_LENGTH:
        raise file.error(where, f"mask {name}: the environment variable {variable} is shorter than "
                                f"{MIN_KEY_LENGTH} characters")
    return MaskKey(value, "development" if value == fallback else "environment", variable)


def builtin_masks() -> dict[str, MaskSpec]:
    return {
        kind: MaskSpec(kind, kind, MappingProxyType({}), build_mask(kind))
        for kind in sorted(MASK_KINDS - REQUIRED.keys())
    }


def _keyed(kind: Any) -> bool:
    return isinstance(kind, str) and "key" in PARAMS.get(kind, {})


def _configured(file: PolicyFile, name: str, value: Any, environ: Mapping[str, str]) -> MaskSpec:
    key = ("masks", name)
    if not _NAME.match(name) or name in MASK_KINDS:
        raise file.error(key, f"mask name {name!r} must be lower_snake_case and not a built-in kind")
    if not isinstance(value, dict) or "kind" not in value:
        raise file.error(key, f"[masks.{name}] must be a table with a 'kind'")
    kind = value["kind"]
    params = {k: v for k, v in value.items() if k != "kind"}
    resolved = mask_key(file, name, params, environ) if _keyed(kind) else None
    if resolved is not None:
        params = {k: v for k, v in params.items() if k not in SECRET_PARAMS} | {"key": resolved.value}
    try:
        apply = build_mask(kind, params)
    except MaskConfigError as exc:
        raise file.error(key + (exc.param,), f"mask {name}: {exc.problem}") from None
    shown = {k: v for k, v in params.items() if k not in SECRET_PARAMS}
    return MaskSpec(name, kind, MappingProxyType(shown), apply)


def _declared(file: PolicyFile) -> dict[str, Any]:
    declared = file.data.get("masks", {})
    if not isinstance(declared, dict):
        raise file.error(("masks",), "masks must be a table of [masks.<name>] tables")
    return declared


def file_masks(file: PolicyFile, environ: Mapping[str, str] | None = None) -> Mapping[str, MaskSpec]:
    """The masks one file's fields may name: the built-ins and the file's own ``[masks.*]``."""
    env = os.environ if environ is None else environ
    masks = builtin_masks()
    masks.update({name: _configured(file, name, value, env) for name, value in _declared(file).items()})
    return MappingProxyType(masks)


def published_keys(directory: Path, environ: Mapping[str, str] | None = None) -> Iterator[PolicyError]:
    """Each mask whose key would come from a policy file: written there, or its development key."""
    env = os.environ if environ is None else environ
    for path in policy_files(directory):
        file = read_policy_file(path)
        for name, value in _declared(file).items():
            if not isinstance(value, dict) or not _keyed(value.get("kind")):
                continue
            found = mask_key(file, name, value, env)
            if found is None or found.origin == "environment":
                continue
            if found.origin == "file":
                problem = (f"mask {name}: a production hub takes no key written in a policy file "
                           "(every developer reads them): write key = \"env:<VARIABLE>\" and set that "
                           "variable")
            else:
                problem = (f"mask {name}: a production hub needs {found.variable} set to a key of its own "
                           f"({MIN_KEY_LENGTH} characters or more), not the development_key published here")
            yield file.error(("masks", name, "key"), problem)


def refuse_published_keys(directory: Path) -> None:
    """Raise the first ``PolicyError`` of ``published_keys``: production start-up calls this."""
    for refusal in published_keys(directory):
        raise refusal
