"""Resident identity number, GB 11643-1999 (18 characters, ISO 7064 MOD 11-2)."""

from __future__ import annotations

import datetime as dt
from operator import mul

from hub.identifiers.division import PROVINCES
from hub.identifiers.errors import InvalidIdentifier

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_check_char(first17: str) -> str:
    if len(first17) != len(_WEIGHTS):
        raise ValueError(f"an ID number's check character is worked out from 17 digits, got {len(first17)}")
    total = sum(map(mul, map(int, first17), _WEIGHTS))  # every ID number the hub sees: no generator frames
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def validate_id_number(value: str, *, today: dt.date | None = None) -> str:
    if not isinstance(value, str):
        raise InvalidIdentifier("ID number", value, "must be a string")
    code = value.strip().upper()
    if len(code) != 18:
        raise InvalidIdentifier("ID number", value, f"must be 18 characters, got {len(code)}")
    # ASCII digits only: ``isdigit`` also takes superscripts (which ``int`` refuses) and full-width digits.
    if not code.isascii() or not code[:17].isdigit() or not (code[17].isdigit() or code[17] == "X"):
        raise InvalidIdentifier("ID number", value, "must be 17 digits followed by a digit or X")
    # Abolished address codes stay valid (people keep old numbers): only the province is checked.
    if code[:2] not in PROVINCES:
        raise InvalidIdentifier("ID number", value, f"address code starts with unknown province {code[:2]!r}")
    try:
        born = dt.date(int(code[6:10]), int(code[10:12]), int(code[12:14]))
    except ValueError:
        raise InvalidIdentifier("ID number", value, f"birth date {code[6:14]!r} is not a date") from None
    if born.year < 1880 or born > (today or dt.date.today()):
        raise InvalidIdentifier("ID number", value, f"birth date {born.isoformat()} is out of range")
    expected = id_check_char(code[:17])
    if code[17] != expected:
        raise InvalidIdentifier("ID number", value, f"check character is {code[17]!r}, expected {expected!r}")
    return code


def sex_of(id_number: str) -> str:
    return "M" if int(id_number[16]) % 2 else "F"


def birth_date_of(id_number: str) -> str:
    return f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}"
