"""Checking a mask's parameters as a policy file gives them: names, types and ranges, once, at load."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import pairwise
from typing import Any


class MaskConfigError(ValueError):
    """A mask configuration that cannot be used; ``param`` names the parameter at fault."""

    def __init__(self, param: str, problem: str) -> None:
        self.param = param
        self.problem = problem
        super().__init__(f"{param}: {problem}")


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("must be a whole number, 0 or more")
    return value


def _fill(value: Any) -> str:
    if not isinstance(value, str) or len(value) != 1:
        raise ValueError("must be one character")
    return value


def _edges(value: Any) -> tuple[float, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError("must be a non-empty list of numbers")
    if any(isinstance(e, bool) or not isinstance(e, (int, float)) for e in value):
        raise ValueError("must be a non-empty list of numbers")
    if any(low >= high for low, high in pairwise(value)):
        raise ValueError("must be strictly increasing")
    return tuple(value)


def _key(value: Any) -> str:
    if not isinstance(value, str) or len(value) < 16:
        raise ValueError("must be a string of 16 characters or more")
    return value


def _length(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 8 <= value <= 64:
        raise ValueError("must be a whole number from 8 to 64 (hex digits of the HMAC)")
    return value


_KEEP: Mapping[str, Callable[[Any], Any]] = {"keep_start": _count, "keep_end": _count, "fill": _fill}
PARAMS: Mapping[str, Mapping[str, Callable[[Any], Any]]] = {
    "id_number": _KEEP,
    "mobile": _KEEP,
    "name": {"fill": _fill},
    "address_to_district": {},
    "date_to_year": {},
    "amount_band": {"edges": _edges},
    "suppress": {},
    "pseudonym": {"key": _key, "length": _length},
}
REQUIRED: Mapping[str, frozenset[str]] = {"pseudonym": frozenset({"key"})}


def check_params(kind: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters converted for the masker; an unknown, missing or bad one raises."""
    accepted = PARAMS[kind]
    checked: dict[str, Any] = {}
    for name, value in params.items():
        if name not in accepted:
            known = ", ".join(sorted(accepted)) or "none"
            raise MaskConfigError(name, f"{kind} has no parameter {name!r} (parameters: {known})")
        try:
            checked[name] = accepted[name](value)
        except ValueError as exc:
            raise MaskConfigError(name, f"{kind} {name} {exc}") from None
    for name in sorted(REQUIRED.get(kind, frozenset()) - params.keys()):
        raise MaskConfigError(name, f"{kind} needs the parameter {name!r}")
    return checked
