"""Licence numbers of the demo departments; the number says which department issued it.

- food business licence (Market Regulation): ``JY`` + 14 digits
  (1 subject type + 6 division + 6 sequence + 1 check, ISO 7064 MOD 11-10 over the 13 before it);
- construction permit (Housing): 18 digits: 6 division + 8 date + 2 same-day sequence + 2 specialty;
- pollutant discharge permit (Ecology): holder USCC + 3-digit site number + ``P``.
"""

from __future__ import annotations

import datetime as dt
import enum

from hub.identifiers.errors import InvalidIdentifier
from hub.identifiers.uscc import validate_uscc


class LicenceKind(enum.Enum):
    FOOD_BUSINESS = "food_business"
    CONSTRUCTION = "construction"
    POLLUTANT_DISCHARGE = "pollutant_discharge"


def mod11_10_check(digits: str) -> str:
    """ISO 7064 MOD 11-10 check digit, as used by food business licence numbers."""
    product = 10
    for c in digits:
        total = (int(c) + product) % 10 or 10
        product = (total * 2) % 11
    return str((11 - product) % 10)


def licence_kind_of(value: str) -> LicenceKind:
    """Which kind of licence a number is, after checking its structure."""
    if not isinstance(value, str):
        raise InvalidIdentifier("licence number", value, "must be a string")
    number = value.strip().upper()
    if number.startswith("JY"):
        digits = number[2:]
        if len(digits) != 14 or not digits.isascii() or not digits.isdigit():
            raise InvalidIdentifier("licence number", value, "food business licence is JY + 14 digits")
        if digits[13] != mod11_10_check(digits[:13]):
            raise InvalidIdentifier("licence number", value, "food business licence check digit is wrong")
        return LicenceKind.FOOD_BUSINESS
    if len(number) == 22 and number.endswith("P"):
        validate_uscc(number[:18])
        if not number[18:21].isascii() or not number[18:21].isdigit():
            raise InvalidIdentifier("licence number", value, "discharge permit site number must be 3 digits")
        return LicenceKind.POLLUTANT_DISCHARGE
    if len(number) == 18 and number.isascii() and number.isdigit():
        try:
            dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        except ValueError:
            raise InvalidIdentifier("licence number", value, "construction permit date is not a date") from None
        return LicenceKind.CONSTRUCTION
    raise InvalidIdentifier(
        "licence number",
        value,
        "not a food business licence (JY + 14 digits), construction permit (18 digits) "
        "or pollutant discharge permit (USCC + 3 digits + P)",
    )
