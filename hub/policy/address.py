"""Generalising a Chinese address to its county-level division (GB/T 37964 generalisation).

The divisions come from ``hub.identifiers.division``: an address that starts with a known county's
name, in full (``河北省唐山市路南区``) or without the province (``唐山市路南区``), generalises to the
county's full name. An address naming no county of the table generalises to the prefecture or the
province it names, and to ``None`` when it names none: an address the hub cannot place is
withheld, never passed through.
"""

from __future__ import annotations

from functools import cache

from hub.identifiers.division import DEMO_COUNTIES, PROVINCES, division_name


@cache
def _prefixes() -> tuple[tuple[str, str], ...]:
    """(written prefix, generalised name) pairs, longest prefix first so a county wins."""
    pairs: dict[str, str] = {name: name for name in PROVINCES.values()}
    for province_code, province in PROVINCES.items():
        for prefecture_code in (f"{province_code}{n:02d}00" for n in range(1, 100)):
            if (prefecture := division_name(prefecture_code)) is not None:
                pairs[prefecture] = prefecture
                pairs[prefecture.removeprefix(province)] = prefecture
    for code in DEMO_COUNTIES:
        if (county := division_name(code)) is not None:
            pairs[county] = county
            pairs[county.removeprefix(PROVINCES[code[:2]])] = county
    return tuple(sorted(pairs.items(), key=lambda pair: -len(pair[0])))


def address_to_district(value: object) -> str | None:
    """``河北省唐山市路南区XX路NN号`` -> ``河北省唐山市路南区``; unplaceable or not text -> None."""
    if not isinstance(value, str):
        return None
    address = value.strip()
    for prefix, generalised in _prefixes():
        if address.startswith(prefix):
            return generalised
    return None
