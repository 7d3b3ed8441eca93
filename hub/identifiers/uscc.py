"""Unified Social Credit Code, GB 32100-2015 (18 characters)."""

from __future__ import annotations

from hub.identifiers.errors import InvalidIdentifier

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# Registering authority (pos 1) -> allowed categories (pos 2), per GB 32100 Table 1.
_CATEGORIES = {
    "1": "1239", "2": "19", "3": "1239", "4": "19", "5": "1239", "6": "129",
    "7": "129", "8": "19", "9": "123", "A": "19", "N": "12359", "Y": "1",
}


def uscc_check_char(first17: str) -> str:
    total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def organisation_code_ok(uscc: str) -> bool:
    """The GB 11714 check of positions 9-17; advisory only (docs/architecture.md: warn, never reject)."""
    body, check = uscc[8:16], uscc[16]
    try:
        total = sum(int(c, 36) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    except ValueError:
        return False
    expected = 11 - total % 11
    return check == {10: "X", 11: "0"}.get(expected, str(expected))


def validate_uscc(value: str) -> str:
    if not isinstance(value, str):
        raise InvalidIdentifier("USCC", value, "must be a string")
    code = value.strip().upper()
    if len(code) != 18:
        raise InvalidIdentifier("USCC", value, f"must be 18 characters, got {len(code)}")
    bad = sorted({c for c in code if c not in _VALUE})
    if bad:
        raise InvalidIdentifier(
            "USCC", value, f"characters {''.join(bad)!r} are not in the USCC alphabet (no I, O, S, V, Z)"
        )
    allowed = _CATEGORIES.get(code[0])
    if allowed is None:
        raise InvalidIdentifier("USCC", value, f"unknown registering authority {code[0]!r}")
    if code[1] not in allowed:
        raise InvalidIdentifier("USCC", value, f"category {code[1]!r} does not exist for authority {code[0]!r}")
    if not code[2:8].isdigit():
        raise InvalidIdentifier("USCC", value, "positions 3-8 must be a 6-digit division code")
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise InvalidIdentifier("USCC", value, f"check character is {code[17]!r}, expected {expected!r}")
    return code
