"""Housing's construction permits and Ecology's pollutant discharge permits.

A construction permit's number embeds its issue date and a same-day sequence, so permits are
numbered once all are drawn, in order of issue. A discharge permit's number is its holder's USCC
and a site number: one enterprise has a permit per production site.
"""

from __future__ import annotations

import datetime as dt

from hub.demo import names
from hub.demo.context import CITY_PREFIX, COUNTY_NAMES, Ctx, WeightedPool, add_years, iso, parse
from hub.demo.ids import construction_permit_number, discharge_permit_number
from hub.demo.industries import MAJOR_SITES, POLLUTANTS
from hub.demo.market import GONE, Row, authority

ECOLOGY_BUREAU = "唐山市生态环境局"
DISCHARGE_TERM_YEARS = 5
# The national discharge permit system was rolled out industry by industry from 2017.
DISCHARGE_SCHEME_START = dt.date(2017, 7, 1)


def issue_window(ctx: Ctx, holder: Row, years_back: int, scheme_start: dt.date) -> dt.date:
    registered = parse(str(holder["registration_date"]))
    latest = parse(str(holder["approval_date"])) if holder["status"] in GONE else ctx.as_of
    earliest = max(registered, add_years(ctx.as_of, -years_back), scheme_start)
    return ctx.day(min(earliest, latest), latest)


def project_name(ctx: Ctx, specialty: str, county: str) -> str:
    trade, estate, n = names.brand(ctx), ctx.pick(names.ESTATES), ctx.rng.randint(1, 28)
    road = ctx.pick(names.ROADS)
    options = {
        "01": (f"{trade}{estate}{n}号楼", f"{trade}{estate}二期{n}#住宅楼",
               f"{COUNTY_NAMES[county]}第{n}中学教学楼改扩建工程", f"{trade}生产车间新建工程"),
        "02": (f"{road}改造工程", f"{road}雨污分流改造工程",
               f"{road}（{ctx.pick(names.ROADS)}至{ctx.pick(names.ROADS)}段）道路工程"),
        "03": (f"{trade}大厦室内装饰装修工程", f"{trade}{estate}公共区域精装修工程"),
    }[specialty]
    return ctx.pick(options)


def project_size(ctx: Ctx, specialty: str) -> tuple[float, float]:
    """Contract price (万元) and floor area (m²); roadworks have no floor area."""
    median = {"01": 3000.0, "02": 1500.0, "03": 300.0}[specialty]
    price = round(min(max(ctx.rng.lognormvariate(0, 1.0) * median, 50.0), 80000.0), 2)
    if specialty == "02":
        return price, 0.0
    cost_per_m2 = ctx.rng.uniform(2200, 4500) if specialty == "01" else ctx.rng.uniform(800, 2000)
    return price, round(price * 10000 / cost_per_m2, 2)


def construction_term(ctx: Ctx, holder: Row, issued: dt.date) -> tuple[dt.date | None, str]:
    """Validity and status: most projects older than two years are finished, which ends the term."""
    if issued < add_years(ctx.as_of, -2) and holder["status"] not in GONE and ctx.chance(0.65):
        return None, "已竣工"
    valid_to = None if ctx.chance(0.4) else issued + dt.timedelta(days=ctx.rng.randint(90, 1095))
    if valid_to is not None and valid_to < ctx.as_of:
        return valid_to, "过期"
    if holder["status"] in GONE:
        return valid_to, "注销"
    return valid_to, "注销" if ctx.chance(0.03) else "有效"


def construction_row(ctx: Ctx, holder: Row) -> Row:
    issued = issue_window(ctx, holder, 8, dt.date.min)
    specialty = holder["_industry"].specialty or "01"
    county = str(holder["region_code"]) if ctx.chance(0.75) else ctx.county()
    price, area = project_size(ctx, specialty)
    valid_to, status = construction_term(ctx, holder, issued)
    return {
        "builder_uscc": holder["uscc"],
        "builder_name": holder["name"],
        "project_name": project_name(ctx, specialty, county),
        "project_address": f"{CITY_PREFIX}{COUNTY_NAMES[county]}{names.street(ctx)}",
        "region_code": county,
        "contract_price": price,
        "floor_area": area,
        "issuer_name": authority(county, "住房和城乡建设局"),
        "issue_date": iso(issued),
        "valid_from": iso(issued),
        "valid_to": None if valid_to is None else iso(valid_to),
        "status": status,
        "_specialty": specialty,
        "_holder": holder,
    }


def construction_permits(ctx: Ctx, enterprises: list[Row], target: int) -> list[Row]:
    # Builders and developers apply for most permits; a factory building a workshop for some.
    pool = WeightedPool(enterprises, [10.0 if e["_industry"].specialty else 0.3 for e in enterprises])
    rows = [construction_row(ctx, pool.draw(ctx)) for _ in range(target)]
    same_day: dict[tuple[object, object], int] = {}
    for row in sorted(rows, key=lambda r: (r["issue_date"], r["region_code"])):
        key = (row["region_code"], row["issue_date"])
        same_day[key] = same_day.get(key, 0) + 1
        issued, county = parse(str(row["issue_date"])), str(row["region_code"])
        row["permit_no"] = construction_permit_number(county, issued, same_day[key], str(row["_specialty"]))
    return rows


def management_class(ctx: Ctx, category: str) -> str:
    if category in MAJOR_SITES:
        return "重点管理" if ctx.chance(0.85) else "简化管理"
    if category in ("汽车修理", "畜禽养殖"):
        return "登记管理"
    return ctx.weighted((("重点管理", 0.1), ("简化管理", 0.5), ("登记管理", 0.4)))


def discharge_status(ctx: Ctx, holder: Row, valid_to: dt.date) -> str:
    if valid_to < ctx.as_of:
        return "过期"
    if holder["status"] in GONE:
        return "注销"
    return "注销" if ctx.chance(0.02) else "有效"


def discharge_row(ctx: Ctx, holder: Row, site: int) -> Row:
    category = holder["_industry"].discharge
    issued = issue_window(ctx, holder, 7, DISCHARGE_SCHEME_START)
    valid_to = add_years(issued, DISCHARGE_TERM_YEARS)
    county = str(holder["region_code"]) if site == 1 or ctx.chance(0.85) else ctx.county()
    address = str(holder["address"])
    if site > 1:
        address = f"{CITY_PREFIX}{COUNTY_NAMES[county]}{names.site_street(ctx)}"
    return {
        "permit_number": discharge_permit_number(str(holder["uscc"]), site),
        "holder_uscc": holder["uscc"],
        "holder_name": holder["name"],
        "site_number": f"{site:03d}",
        "site_address": address,
        "region_code": county,
        "industry_category": category,
        "management_class": management_class(ctx, category),
        "pollutants": POLLUTANTS[category],
        "issuer_name": ECOLOGY_BUREAU,
        "issue_date": iso(issued),
        "valid_from": iso(issued),
        "valid_to": iso(valid_to),
        "status": discharge_status(ctx, holder, valid_to),
        "_holder": holder,
    }


def discharge_permits(ctx: Ctx, enterprises: list[Row], target: int) -> list[Row]:
    # Heavy industry runs many sites; small workshops one each.
    too_early = iso(DISCHARGE_SCHEME_START)
    holders = [
        e for e in enterprises
        if e["_industry"].discharge and not (e["status"] in GONE and str(e["approval_date"]) < too_early)
    ]
    if not holders:
        return []
    pool = WeightedPool(holders, [3.0 if e["_industry"].discharge in MAJOR_SITES else 1.0 for e in holders])
    sites: dict[str, int] = {}
    rows = []
    for _ in range(target):
        holder = pool.draw(ctx)
        sites[str(holder["uscc"])] = sites.get(str(holder["uscc"]), 0) + 1
        rows.append(discharge_row(ctx, holder, sites[str(holder["uscc"])]))
    return rows
