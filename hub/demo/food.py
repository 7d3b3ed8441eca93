"""Market Regulation's food business licences (食品经营许可证), valid five years.

A licence comes alone or as a chain: a change replaces a licence by a new version (the old one is
marked 变更), a renewal follows an expired one. Numbers are handed out per county in order of
issue, as the issuing offices do, once every licence of the run is known.
"""

from __future__ import annotations

import datetime as dt

from hub.demo import names
from hub.demo.context import CITY_PREFIX, COUNTY_NAMES, Ctx, WeightedPool, add_years, iso, parse
from hub.demo.ids import food_licence_number, government_uscc
from hub.demo.industries import FOOD_CATERING_ITEMS, FOOD_SALE_ITEMS
from hub.demo.market import GONE, Row, authority
from hub.identifiers.division import DEMO_COUNTIES

# The food business licence replaced the separate circulation and catering permits in October 2015.
SCHEME_START = dt.date(2015, 10, 1)
TERM_YEARS = 5
DAY = dt.timedelta(days=1)


def issuer_codes(ctx: Ctx) -> dict[str, str]:
    return {county: government_uscc(ctx, county) for county in DEMO_COUNTIES}


def subject_type(ctx: Ctx, holder: Row) -> int:
    """1 seller, 2 caterer, 3 staff canteen: a steelworks' licence is for its canteen."""
    code = str(holder["industry_code"])
    if code.startswith("H"):
        return 2
    if code.startswith("F") or code.startswith("C1"):
        return 1
    return 3 if ctx.chance(0.7) else 1


def business_items(ctx: Ctx, subject: int) -> str:
    if subject == 1:
        items = ["预包装食品销售（含冷藏冷冻食品）"] + ctx.rng.sample(FOOD_SALE_ITEMS, ctx.rng.randint(0, 2))
    else:
        extra = ctx.rng.randint(0, 2 if subject == 2 else 1)
        items = ["热食类食品制售"] + ctx.rng.sample(FOOD_CATERING_ITEMS, extra)
    return ",".join(items)


def licence_status(ctx: Ctx, holder: Row, valid_to: dt.date) -> str:
    if valid_to < ctx.as_of:
        return "过期"
    if holder["status"] in GONE:
        return "吊销" if holder["status"] == "吊销" and ctx.chance(0.5) else "注销"
    return ctx.weighted((("有效", 0.95), ("注销", 0.04), ("吊销", 0.01)))


class FoodOffice:
    """Issues one run's food licences; remembers each holder's premises and the issuer codes."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.codes = issuer_codes(ctx)
        self.premises: dict[str, int] = {}

    def premises_of(self, holder: Row) -> tuple[str, str]:
        """The first licence covers the registered address; others a shop elsewhere."""
        seen = self.premises.get(str(holder["uscc"]), 0)
        self.premises[str(holder["uscc"])] = seen + 1
        if seen == 0:
            return str(holder["region_code"]), str(holder["address"])
        county = str(holder["region_code"]) if self.ctx.chance(0.8) else self.ctx.county()
        return county, f"{CITY_PREFIX}{COUNTY_NAMES[county]}{names.street(self.ctx)}"

    def licence(self, holder: Row, valid_from: dt.date, valid_to: dt.date, origin: Row | None = None) -> Row:
        """A licence; one that changes or renews ``origin`` keeps its premises and subject type."""
        if origin is None:
            county, address = self.premises_of(holder)
            subject = subject_type(self.ctx, holder)
        else:
            county, address = str(origin["region_code"]), str(origin["operating_address"])
            subject = int(origin["_subject"])
        return {
            "holder_uscc": holder["uscc"],
            "holder_name": holder["name"],
            "issuer_name": authority(county, "市场监督管理局"),
            "issuer_code": self.codes[county],
            "issue_date": iso(valid_from),
            "valid_from": iso(valid_from),
            "valid_to": iso(valid_to),
            "status": licence_status(self.ctx, holder, valid_to),
            "business_items": business_items(self.ctx, subject),
            "operating_address": address,
            "region_code": county,
            "version": "001",
            "related_number": None,
            "source_case": None,
            "_subject": subject,
            "_holder": holder,
            "_related": origin,
        }

    def plain(self, holder: Row, earliest: dt.date, latest: dt.date) -> list[Row]:
        start = self.ctx.day(max(earliest, add_years(self.ctx.as_of, -6)), latest)
        return [self.licence(holder, start, add_years(start, TERM_YEARS))]

    def expiring(self, holder: Row, earliest: dt.date, latest: dt.date) -> list[Row]:
        # Due for renewal: the valid_to falls within the next 90 days.
        start = add_years(self.ctx.as_of, -TERM_YEARS) + dt.timedelta(days=self.ctx.rng.randint(0, 90))
        if not earliest <= start <= latest:
            return self.plain(holder, earliest, latest)
        return [self.licence(holder, start, add_years(start, TERM_YEARS))]

    def changed(self, holder: Row, earliest: dt.date, latest: dt.date) -> list[Row]:
        low = max(earliest, add_years(self.ctx.as_of, -TERM_YEARS) + DAY)
        if low > latest - dt.timedelta(days=30):
            return self.plain(holder, earliest, latest)
        start = self.ctx.day(low, latest - dt.timedelta(days=30))
        old = self.licence(holder, start, add_years(start, TERM_YEARS))
        old["status"] = "变更"
        # A change keeps the original term; only the issue date moves.
        change = self.ctx.day(start + dt.timedelta(days=30), latest)
        new = self.licence(holder, change, add_years(start, TERM_YEARS), origin=old)
        new["version"] = "002"
        return [old, new]

    def renewed(self, holder: Row, earliest: dt.date, latest: dt.date) -> list[Row]:
        high = min(add_years(self.ctx.as_of, -TERM_YEARS) - DAY, add_years(latest, -TERM_YEARS) - DAY)
        if earliest > high:
            return self.plain(holder, earliest, latest)
        start = self.ctx.day(earliest, high)
        old = self.licence(holder, start, add_years(start, TERM_YEARS))
        renewal = add_years(start, TERM_YEARS) + DAY
        new = self.licence(holder, renewal, add_years(renewal, TERM_YEARS), origin=old)
        return [old, new]

    def chain(self, holder: Row, single: bool) -> list[Row]:
        earliest = max(parse(str(holder["registration_date"])), SCHEME_START)
        latest = parse(str(holder["approval_date"])) if holder["status"] in GONE else self.ctx.as_of
        kinds = [(self.plain, 0.72), (self.expiring, 0.1)]
        if not single:
            kinds += [(self.changed, 0.1), (self.renewed, 0.08)]
        return self.ctx.weighted(kinds)(holder, min(earliest, latest), latest)


def number_licences(ctx: Ctx, rows: list[Row]) -> None:
    """Per-county sequences in order of issue; then changes and renewals can name their origin."""
    sequence = {county: ctx.rng.randint(100, 3000) for county in DEMO_COUNTIES}
    order = sorted(range(len(rows)), key=lambda i: (rows[i]["issue_date"], i))
    for index in order:
        row = rows[index]
        county = str(row["region_code"])
        sequence[county] += 1
        row["number"] = food_licence_number(int(row["_subject"]), county, sequence[county])
    for row in rows:
        related = row["_related"]
        row["related_number"] = None if related is None else related["number"]


def licence_weight(holder: Row) -> float:
    """Food sellers and caterers hold most licences; any employer may run a licensed canteen."""
    if holder["status"] in GONE and str(holder["approval_date"]) < iso(SCHEME_START):
        return 0.0
    return 8.0 if holder["_industry"].food else 1.0


def food_licences(ctx: Ctx, enterprises: list[Row], target: int) -> list[Row]:
    pool = WeightedPool(enterprises, [licence_weight(e) for e in enterprises])
    office = FoodOffice(ctx)
    rows: list[Row] = []
    while len(rows) < target:
        rows.extend(office.chain(pool.draw(ctx), single=len(rows) + 1 == target))
    number_licences(ctx, rows)
    return rows
