"""The tax bureau's registrations: status, taxpayer type, credit grade and arrears.

Enterprises register for tax within 30 days of their business licence (Tax Collection
Administration Law, art. 15), so the newest have no row yet; a few others are simply missing.
Credit grades are for the previous year; a taxpayer new in that year is graded M.
"""

from __future__ import annotations

import datetime as dt

from hub.demo.context import COUNTY_NAMES, Ctx, iso, parse
from hub.demo.market import Row

GRADES = (("A", 0.1), ("B", 0.42), ("M", 0.36), ("C", 0.07), ("D", 0.05))


def tax_status(ctx: Ctx, holder: Row) -> str:
    if holder["status"] in ("注销", "迁出"):
        return "注销"
    if holder["status"] == "吊销":
        return "非正常" if ctx.chance(0.6) else "注销"
    return "非正常" if ctx.chance(0.03) else "正常"


def credit_grade(ctx: Ctx, registered: dt.date, status: str) -> str:
    if status == "非正常":
        return "D"
    if registered.year >= ctx.as_of.year - 1:
        return "M"
    return ctx.weighted(GRADES)


def arrears(ctx: Ctx, grade: str, status: str) -> float:
    owing = 0.6 if grade in ("C", "D") or status == "非正常" else 0.03
    if not ctx.chance(owing):
        return 0.0
    return round(ctx.rng.lognormvariate(0, 1.5) * 5.0, 2)


def tax_row(ctx: Ctx, holder: Row, registered: dt.date) -> Row:
    status = tax_status(ctx, holder)
    grade = credit_grade(ctx, registered, status)
    large = holder["type"] != "个体工商户" and float(str(holder["registered_capital"])) >= 500
    return {
        "uscc": holder["uscc"],
        "taxpayer_name": holder["name"],
        "status": status,
        "taxpayer_type": "一般纳税人" if large and ctx.chance(0.8) else "小规模纳税人",
        "registered_date": iso(registered),
        "credit_grade": grade,
        "credit_year": ctx.as_of.year - 1,
        "arrears": arrears(ctx, grade, status),
        "tax_authority": f"国家税务总局唐山市{COUNTY_NAMES[str(holder['region_code'])]}税务局",
    }


def tax_registrations(ctx: Ctx, enterprises: list[Row]) -> list[Row]:
    rows = []
    for holder in enterprises:
        registered = parse(str(holder["registration_date"])) + dt.timedelta(days=ctx.rng.randint(1, 30))
        if registered > ctx.as_of or ctx.chance(0.025):
            continue
        rows.append(tax_row(ctx, holder, registered))
    return rows
