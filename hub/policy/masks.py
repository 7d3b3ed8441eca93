"""Named, configurable maskers (docs/architecture.md, masking; GB/T 37964-2019 names the families).

Each masker takes one raw value and returns a new one; none mutates anything, all return ``None``
for ``None`` and none raises on malformed input (a value it cannot read is withheld as ``None``
or fully starred). ``build_mask(kind, params)`` checks a policy file's parameters once, at load,
and returns the configured masker; a problem raises ``MaskConfigError`` naming the parameter.

=====================  ==============================  ===================================
kind                   parameters (default)            example
=====================  ==============================  ===================================
id_number              keep_start (6), keep_end (4),   ``110105********002X``
                       fill ("*")
mobile                 keep_start (3), keep_end (4),   ``138****5678``
                       fill ("*")
name                   fill ("*")                      ``张*``, ``欧阳*``
address_to_district    -                               ``河北省唐山市路南区``
date_to_year           -                               ``2019``
amount_band            edges ([100, 1000, 10000])      ``100-1000`` (10,000 CNY)
suppress               -                               ``None``
pseudonym              key (required), length (16)     ``3f9a...`` (HMAC-SHA256, hex)
=====================  ==============================  ===================================
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections.abc import Callable, Mapping
from functools import partial
from itertools import pairwise
from typing import Any, SupportsFloat, SupportsIndex

from hub.policy.address import address_to_district
from hub.policy.params import MaskConfigError, check_params
from hub.policy.surnames import split_name

Masker = Callable[[Any], Any]
_YEAR = re.compile(r"^(\d{4})(?:-|$)")


def keep_ends(value: object, keep_start: int, keep_end: int, fill: str = "*") -> str | None:
    """Keep the first and last characters, star the middle; a value too short is starred whole."""
    if value is None:
        return None
    text = str(value)
    hidden = len(text) - keep_start - keep_end
    if hidden <= 0:
        return fill * len(text)
    return text[:keep_start] + fill * hidden + text[len(text) - keep_end :]


def mask_name(value: object, fill: str = "*") -> str | None:
    """Keep the surname (``欧阳`` included), one fill for the rest: ``张三丰`` -> ``张*``."""
    if value is None:
        return None
    surname, given = split_name(str(value).strip())
    return surname + fill if given else fill * len(surname)


def date_to_year(value: object) -> str | None:
    match = _YEAR.match(str(value)) if value is not None else None
    return match.group(1) if match else None


def _label(edge: float) -> str:
    return f"{edge:g}"


def amount_band(value: object, edges: tuple[float, ...] = (100, 1000, 10000)) -> str | None:
    """The band an amount falls in, lower edge inclusive: 250 -> ``100-1000``; unreadable -> None."""
    if not isinstance(value, (SupportsFloat, SupportsIndex, str, bytes)) or isinstance(value, bool):
        return None  # what float() refuses with a TypeError, None among them
    try:
        amount = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(amount):
        return None
    if amount < edges[0]:
        return f"<{_label(edges[0])}"
    for low, high in pairwise(edges):
        if amount < high:
            return f"{_label(low)}-{_label(high)}"
    return f">={_label(edges[-1])}"


def suppress(value: object) -> None:
    return None


def pseudonym(value: object, key: str, length: int = 16) -> str | None:
    """A keyed HMAC-SHA256 of the value: the same value, the same pseudonym; no key, no reversal."""
    if value is None:
        return None
    digest = hmac.new(key.encode(), str(value).encode(), hashlib.sha256).hexdigest()
    return digest[:length]


_DEFAULTS: Mapping[str, tuple[Callable[..., Any], Mapping[str, Any]]] = {
    "id_number": (keep_ends, {"keep_start": 6, "keep_end": 4, "fill": "*"}),
    "mobile": (keep_ends, {"keep_start": 3, "keep_end": 4, "fill": "*"}),
    "name": (mask_name, {"fill": "*"}),
    "address_to_district": (address_to_district, {}),
    "date_to_year": (date_to_year, {}),
    "amount_band": (amount_band, {"edges": (100, 1000, 10000)}),
    "suppress": (suppress, {}),
    "pseudonym": (pseudonym, {"length": 16}),
}
MASK_KINDS: frozenset[str] = frozenset(_DEFAULTS)


def build_mask(kind: str, params: Mapping[str, Any] | None = None) -> Masker:
    """The masker of ``kind`` with the policy's parameters over its defaults (checked here, once)."""
    if kind not in _DEFAULTS:
        raise MaskConfigError("kind", f"no mask kind {kind!r} (kinds: {', '.join(sorted(MASK_KINDS))})")
    function, defaults = _DEFAULTS[kind]
    merged = {**defaults, **check_params(kind, params or {})}
    return partial(function, **merged) if merged else function


__all__ = [
    "MASK_KINDS",
    "MaskConfigError",
    "Masker",
    "address_to_district",
    "amount_band",
    "build_mask",
    "date_to_year",
    "keep_ends",
    "mask_name",
    "pseudonym",
    "suppress",
]
