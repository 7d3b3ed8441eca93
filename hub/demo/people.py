"""People: the legal representatives Market Regulation records and the population register.

ID card validity follows the Resident Identity Card Law: 10 years when issued at 16-25, 20 years at
26-45, long-term (null here) from 46; under 16 the card lasts 5 years. Cards are renewed around
expiry, and a few people let theirs lapse, so identity checks meet an occasional expired card.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hub.demo import names
from hub.demo.context import Ctx, add_years, iso
from hub.demo.ids import id_number
from hub.identifiers.division import DEMO_CITY, division_name

# Real county codes elsewhere in China: people born there moved to Tangshan.
OTHER_PROVINCES = (
    "110105", "110108", "120103", "120104", "140105", "150102", "210102", "210202", "220102",
    "230102", "370102", "370202", "410102", "320102", "340102", "420102", "510104", "610103",
)
HEBEI_PREFECTURES = tuple(
    f"13{n:02d}" for n in range(1, 12) if division_name(f"13{n:02d}00") and f"13{n:02d}00" != DEMO_CITY
)


def address_code(ctx: Ctx) -> str:
    roll = ctx.rng.random()
    if roll < 0.8:
        return ctx.county()
    if roll < 0.95:
        return ctx.pick(HEBEI_PREFECTURES) + f"{ctx.rng.randint(2, 30):02d}"
    return ctx.pick(OTHER_PROVINCES)


def card_term(born: dt.date, issued: dt.date) -> int | None:
    age = (issued - born).days // 365
    if age < 16:
        return 5
    if age <= 25:
        return 10
    return 20 if age <= 45 else None


def id_validity(ctx: Ctx, born: dt.date) -> tuple[dt.date, dt.date | None]:
    """The card currently held: issued at 16 (or in childhood) and renewed near each expiry."""
    first = add_years(born, 16) if add_years(born, 16) <= ctx.as_of else add_years(born, 1)
    issued = ctx.day(first, min(add_years(first, 2), ctx.as_of))
    while True:
        term = card_term(born, issued)
        expires = None if term is None else add_years(issued, term)
        if expires is None or expires > ctx.as_of or ctx.chance(0.03):
            return issued, expires
        issued = expires - dt.timedelta(days=ctx.rng.randint(0, 60))


def new_person(ctx: Ctx, used: set[str], earliest: dt.date, latest: dt.date) -> dict[str, Any]:
    male = ctx.chance(0.72)
    while True:
        born = ctx.day(earliest, latest)
        number = id_number(address_code(ctx), born, male, ctx)
        if number not in used:
            used.add(number)
            break
    valid_from, valid_to = id_validity(ctx, born)
    return {
        "id_number": number,
        "id_type": "居民身份证",
        "name": names.person_name(ctx, male),
        "mobile": names.mobile(ctx),
        "id_valid_from": iso(valid_from),
        "id_valid_to": None if valid_to is None else iso(valid_to),
        "_male": male,
    }


def population_row(ctx: Ctx, person: dict[str, Any], status: str) -> dict[str, Any]:
    number = str(person["id_number"])
    name = str(person["name"])
    if ctx.chance(0.02):
        name = names.renamed(ctx, name, bool(person["_male"]))
    return {
        "id_number": number,
        "name": name,
        "sex": "M" if int(number[16]) % 2 else "F",
        "birth_date": f"{number[6:10]}-{number[10:12]}-{number[12:14]}",
        "address_code": number[:6],
        "id_valid_from": person["id_valid_from"],
        "id_valid_to": person["id_valid_to"],
        "status": status,
    }


def population(
    ctx: Ctx, persons: list[dict[str, Any]], retired: set[str], used: set[str], extra: int
) -> list[dict[str, Any]]:
    """Everyone Market Regulation knows, plus residents who never ran a business.

    ``retired`` are representatives whose every enterprise is gone; a few of them have died.
    """
    rows = []
    for person in persons:
        dead = person["id_number"] in retired and ctx.chance(0.1)
        rows.append(population_row(ctx, person, "死亡" if dead else "正常"))
    for _ in range(extra):
        person = new_person(ctx, used, dt.date(1940, 1, 1), min(dt.date(2012, 12, 31), ctx.as_of))
        status = ctx.weighted((("正常", 0.92), ("注销", 0.03), ("死亡", 0.05)))
        rows.append(population_row(ctx, person, status))
    return rows
