"""What the registry's changes accept from a person, at the console or the terminal alike:
trimmed printable text, a status word, a JWK object, a client's limits. Each refusal is a
``RegistryError`` (400) naming the field; the registry itself checks what a name, a
jurisdiction or a key must be."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from hub.fairuse.limits import ClientLimits, LimitsError
from hub.store import RegistryError

STATUS_WORDS = {"active": "unblocked", "disabled": "blocked"}


def text(value: Any, what: str, *, limit: int = 200, required: bool = True) -> str:
    """A form, JSON or command-line value as trimmed text, refused when missing, too long or not text."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise RegistryError(f"{what} must be text")
    trimmed = value.strip()
    if required and not trimmed:
        raise RegistryError(f"{what} is required")
    if len(trimmed) > limit or any(ord(c) < 32 for c in trimmed):
        raise RegistryError(f"{what} must be at most {limit} printable characters")
    return trimmed


def jwk_from_json(content: bytes | str | dict[str, Any]) -> dict[str, Any]:
    """The JSON object a JWK is (its checks are the registry's: public P-256 only)."""
    try:
        value = content if isinstance(content, dict) else json.loads(content)
    except ValueError:
        raise RegistryError("the file is not JSON; a JWK is a JSON object") from None
    if not isinstance(value, dict):
        raise RegistryError("a JWK is a JSON object")
    return value


def status_value(value: Any) -> str:
    if value not in STATUS_WORDS:
        raise RegistryError("status must be 'active' (unblocked) or 'disabled' (blocked)")
    return str(value)


def limits_from(raw: Mapping[str, Any], defaults: ClientLimits) -> ClientLimits | None:
    """A client's limits from a form or JSON (None: the settings' defaults); blank cost fields are 0."""
    if raw.get("use_defaults") in ("on", "true", True):
        return None
    values = {name: raw.get(name) for name in ("rate", "burst", "cost_per_minute", "cost_per_day")}
    values = {name: value for name, value in values.items() if value not in (None, "")}
    try:
        return ClientLimits.from_mapping(values, ClientLimits(defaults.rate, defaults.burst))
    except LimitsError as exc:
        raise RegistryError(str(exc)) from None
