"""Builders for the identifiers the demo departments issue; each passes ``hub.identifiers``.

The check characters come from the validators' own functions (``uscc_check_char``,
``id_check_char``, ``mod11_10_check``) so the generator and the validators cannot drift apart.
"""

from __future__ import annotations

import datetime as dt

from hub.demo.context import Ctx
from hub.identifiers.id_number import id_check_char
from hub.identifiers.licence_numbers import mod11_10_check
from hub.identifiers.uscc import ALPHABET, uscc_check_char

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# Codes issued since the 2015 reform start with "MA"; older ones carried over from GB 11714 digits.
MODERN_CODES_FROM = dt.date(2015, 10, 1)


def organisation_check(body: str) -> str:
    """GB 11714 check character over 8 characters (digits as values, letters A=10..Z=35)."""
    value = 11 - sum(int(c, 36) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True)) % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def organisation_code(ctx: Ctx, registered: dt.date) -> str:
    if registered >= MODERN_CODES_FROM:
        body = "MA" + "".join(ctx.pick(ALPHABET) for _ in range(6))
    else:
        body = "".join(ctx.pick("0123456789") for _ in range(8))
    return body + organisation_check(body)


def uscc(prefix: str, county: str, organisation: str) -> str:
    first17 = prefix + county + organisation
    return first17 + uscc_check_char(first17)


def government_uscc(ctx: Ctx, county: str) -> str:
    """A government organ's code (authority 1, category 1), as licence issuers carry."""
    body = "000" + f"{ctx.rng.randint(0, 99_999):05d}"
    return uscc("11", county, body + organisation_check(body))


def id_number(address: str, born: dt.date, male: bool, ctx: Ctx) -> str:
    # The sequence's last digit is the sex: odd for men, even for women.
    sequence = ctx.rng.randint(0, 499) * 2 + (1 if male else 0)
    first17 = f"{address}{born:%Y%m%d}{sequence:03d}"
    return first17 + id_check_char(first17)


def food_licence_number(subject: int, county: str, sequence: int) -> str:
    first13 = f"{subject}{county}{sequence:06d}"
    return "JY" + first13 + mod11_10_check(first13)


def construction_permit_number(county: str, issued: dt.date, same_day: int, specialty: str) -> str:
    if not 1 <= same_day <= 99:
        raise ValueError(f"an office issues at most 99 construction permits a day, got {same_day}")
    return f"{county}{issued:%Y%m%d}{same_day:02d}{specialty}"


def discharge_permit_number(holder_uscc: str, site: int) -> str:
    return f"{holder_uscc}{site:03d}P"
