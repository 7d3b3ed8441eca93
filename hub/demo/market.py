"""Market Regulation's register: enterprises, their legal representatives, the abnormal list.

Rows are dicts keyed by column; keys starting with ``_`` carry generator facts (the industry, the
representative's sex) that later modules use and the writer drops.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hub.demo import names
from hub.demo.context import CITY_PREFIX, COUNTY_NAMES, Ctx, WeightedPool, add_years, iso, parse
from hub.demo.ids import organisation_code, uscc
from hub.demo.industries import INDUSTRIES, SCOPE_TAIL, Industry
from hub.demo.people import new_person

# A generated row: values of its columns' many types, and the generator's own keys (``_industry``,
# ``_rep``) holding what the later stages read.
Row = dict[str, Any]
PREFIX = {"company": "91", "individual": "92", "coop": "93"}
GONE = frozenset({"注销", "吊销", "迁出"})
FIRST_YEAR = 1995
_INDUSTRY_POOL: WeightedPool[Industry] = WeightedPool(INDUSTRIES, [i.weight for i in INDUSTRIES])


def authority(county: str, office: str) -> str:
    return f"唐山市{COUNTY_NAMES[county]}{office}"


def registration_date(ctx: Ctx) -> dt.date:
    # Registrations grew year on year (the 2014 reform especially), so recent years weigh more.
    years = [(year, 1 + 0.25 * (year - FIRST_YEAR) ** 1.2) for year in range(FIRST_YEAR, ctx.as_of.year + 1)]
    year = ctx.weighted(years)
    return ctx.day(dt.date(year, 1, 1), min(dt.date(year, 12, 31), ctx.as_of))


def company_name(ctx: Ctx, industry: Industry, county: str, kind: str) -> str:
    trade = names.brand(ctx)
    if industry.form == "individual":
        if ctx.chance(0.5):
            trade = names.person_name(ctx, ctx.chance(0.6))[0] + "记"
        return COUNTY_NAMES[county] + trade + industry.word
    if industry.form == "coop":
        return COUNTY_NAMES[county] + trade + industry.word
    suffix = "股份有限公司" if kind == "股份有限公司" else ctx.pick(("有限公司", "有限公司", "有限责任公司"))
    return ctx.pick(("唐山", "唐山", "唐山市", "河北")) + trade + industry.word + suffix


def enterprise_type(ctx: Ctx, industry: Industry) -> str:
    if industry.form == "individual":
        return "个体工商户"
    if industry.form == "coop":
        return "农民专业合作社"
    return ctx.weighted((
        ("有限责任公司(自然人投资或控股)", 0.62), ("有限责任公司(自然人独资)", 0.18),
        ("有限责任公司(法人独资)", 0.12), ("股份有限公司", 0.08),
    ))


def capital(ctx: Ctx, form: str, kind: str) -> float:
    if form == "individual":
        return float(ctx.pick((10, 10, 20, 30, 50)))
    median = {"coop": 100.0, "company": 500.0}[form] * (5 if kind == "股份有限公司" else 1)
    amount = min(max(ctx.rng.lognormvariate(0, 1.4) * median, 10.0), 50000.0)
    if ctx.chance(0.7):
        # Most registered capital is a round figure.
        step = 10 ** max(len(str(int(amount))) - 2, 0)
        amount = max(round(amount / step) * step, 10)
    return round(amount, 2)


def status(ctx: Ctx, registered: dt.date) -> str:
    age = (ctx.as_of - registered).days / 365
    return ctx.weighted((
        ("注销", min(0.02 + 0.006 * age, 0.15)), ("吊销", min(0.004 * age, 0.07)),
        ("迁出", 0.012), ("在业", 0.08), ("存续", 0.75),
    ))


def term_to(ctx: Ctx, registered: dt.date) -> str | None:
    if ctx.chance(0.4):
        return None
    ends = [add_years(registered, years) for years in (20, 30, 50)]
    current = [end for end in ends if end > ctx.as_of]
    return iso(ctx.pick(current)) if current else None


class Register:
    """The uniqueness a register enforces (codes, names, ID numbers) while enterprises are made."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.codes: set[str] = set()
        self.names: set[str] = set()
        self.ids: set[str] = set()
        self.persons: list[Row] = []
        self.represented: dict[str, int] = {}

    def new_code(self, form: str, county: str, registered: dt.date) -> str:
        while True:
            code = uscc(PREFIX[form], county, organisation_code(self.ctx, registered))
            if code not in self.codes:
                self.codes.add(code)
                return code

    def new_name(self, industry: Industry, county: str, kind: str) -> str:
        while True:
            name = company_name(self.ctx, industry, county, kind)
            if name not in self.names:
                self.names.add(name)
                return name

    def representative(self, registered: dt.date) -> Row:
        """An existing person now and then (one may represent up to three), else a new one."""
        youngest = min(add_years(registered, -20), dt.date(2000, 12, 31))
        if self.persons and self.ctx.chance(0.15):
            for _ in range(8):
                person = self.ctx.pick(self.persons)
                number = str(person["id_number"])
                if self.represented[number] < 3 and parse(_birth(number)) <= youngest:
                    self.represented[number] += 1
                    return person
        oldest = max(dt.date(1950, 1, 1), add_years(registered, -65))
        person = new_person(self.ctx, self.ids, oldest, youngest)
        self.persons.append(person)
        self.represented[str(person["id_number"])] = 1
        return person


def _birth(number: str) -> str:
    return f"{number[6:10]}-{number[10:12]}-{number[12:14]}"


def enterprise(ctx: Ctx, register: Register) -> Row:
    industry = _INDUSTRY_POOL.draw(ctx)
    registered = registration_date(ctx)
    county = ctx.county()
    kind = enterprise_type(ctx, industry)
    state = status(ctx, registered)
    changed = state in GONE or ctx.chance(0.55)
    rep = register.representative(registered)
    return {
        "uscc": register.new_code(industry.form, county, registered),
        "name": register.new_name(industry, county, kind),
        "type": kind,
        "status": state,
        "legal_rep_id": rep["id_number"],
        "registered_capital": capital(ctx, industry.form, kind),
        "registration_date": iso(registered),
        "approval_date": iso(ctx.day(registered, ctx.as_of) if changed else registered),
        "registration_authority": authority(county, "市场监督管理局"),
        "term_from": iso(registered),
        "term_to": None if industry.form == "individual" else term_to(ctx, registered),
        "business_scope": industry.scope + ("" if industry.form == "individual" else SCOPE_TAIL),
        "address": f"{CITY_PREFIX}{COUNTY_NAMES[county]}{names.street(ctx)}",
        "industry_code": industry.code,
        "region_code": county,
        "_industry": industry,
        "_rep": rep,
    }


def register_enterprises(ctx: Ctx, count: int) -> tuple[list[Row], list[Row], set[str]]:
    """The enterprises, their representatives, and every ID number handed out so far."""
    register = Register(ctx)
    enterprises = [enterprise(ctx, register) for _ in range(count)]
    return enterprises, register.persons, register.ids


def retired_representatives(enterprises: list[Row]) -> set[str]:
    """People all of whose enterprises are deregistered, revoked or gone elsewhere."""
    active = {e["legal_rep_id"] for e in enterprises if e["status"] not in GONE}
    return {str(e["legal_rep_id"]) for e in enterprises if e["legal_rep_id"] not in active}


# The abnormal-operation list exists since the Enterprise Information Disclosure Regulation (Oct 2014).
LIST_START = dt.date(2014, 10, 1)
ABNORMAL_REASONS = (
    ("未按规定期限公示年度报告", 0.7, "补报未报年份的年度报告并公示"),
    ("通过登记的住所或者经营场所无法联系", 0.25, "依法办理住所或者经营场所变更登记"),
    ("公示企业信息隐瞒真实情况、弄虚作假", 0.05, "更正其公示的信息"),
)


def abnormal_operations(ctx: Ctx, enterprises: list[Row]) -> list[Row]:
    # Listing needs a missed annual report, so only enterprises past their first report deadline.
    cutoff = iso(ctx.as_of - dt.timedelta(days=400))
    candidates = [
        e for e in enterprises if e["status"] in ("存续", "在业", "吊销") and str(e["registration_date"]) < cutoff
    ]
    chosen = ctx.rng.sample(candidates, min(round(len(enterprises) * 0.04), len(candidates)))
    rows = [abnormal_row(ctx, e) for e in chosen]
    rows.sort(key=lambda row: (row["listed_date"], row["uscc"]))
    for number, row in enumerate(rows, start=1):
        row["id"] = number
    return rows


def abnormal_row(ctx: Ctx, holder: Row) -> Row:
    reason, removal = ctx.weighted([((r, fix), w) for r, w, fix in ABNORMAL_REASONS])
    first_report_missed = parse(str(holder["registration_date"])) + dt.timedelta(days=400)
    listed = ctx.day(max(first_report_missed, LIST_START), ctx.as_of)
    removable = holder["status"] != "吊销" and listed + dt.timedelta(days=10) <= ctx.as_of
    removed = ctx.day(listed + dt.timedelta(days=10), ctx.as_of) if removable and ctx.chance(0.3) else None
    return {
        "uscc": holder["uscc"],
        "reason": reason,
        "listed_date": iso(listed),
        "listing_authority": holder["registration_authority"],
        "removed_date": None if removed is None else iso(removed),
        "removal_reason": removal if removed else None,
    }
