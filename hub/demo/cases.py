"""The service centre's application cases (办件) and their stages.

Granted licensing cases are the ones that produced a licence in the departments' data: each points
at its licence, and a food licence points back at its case. Registration cases are anchored on the
register's own dates (an enterprise's registration, a deregistration, a removal from the abnormal
list). The rest are cases still open, refused or withdrawn, and routine services.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hub.demo import names
from hub.demo.catalogue import FOR_RESULT, MATTERS, Matter
from hub.demo.context import Ctx
from hub.demo.market import Row
from hub.demo.stages import Stage, Timing, cut, plan, timing_before
from hub.identifiers.division import DEMO_COUNTIES

ONLINE_ERA_YEARS = 5  # how far back the centre's case system keeps cases
LINK_SHARE = {"food_licence": 0.36, "construction_permit": 0.25, "discharge_permit": 0.2}
LICENSING_RESULTS = frozenset(FOR_RESULT)


@dataclass
class Applicant:
    """Who applies: an enterprise (by USCC) or a person (by ID number)."""

    kind: str
    name: str
    id_type: str
    number: str
    region: str
    rep: str | None

    @classmethod
    def enterprise(cls, holder: Row) -> Applicant:
        rep = holder["_rep"]
        return cls("enterprise", str(holder["name"]), "USCC", str(holder["uscc"]), str(holder["region_code"]),
                   str(rep["name"]))

    @classmethod
    def person(cls, ctx: Ctx, person: Row) -> Applicant:
        number = str(person["id_number"])
        region = number[:6] if number[:6] in DEMO_COUNTIES else ctx.county()
        return cls("person", str(person["name"]), "ID", number, region, None)


class Centre:
    """Numbers cases, staffs the windows and keeps every case with its stages."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.daily: dict[tuple[dt.date, str], int] = {}
        departments = dict.fromkeys(m.department for m in MATTERS)
        self.staff = {d: [names.person_name(ctx, ctx.chance(0.5)) for _ in range(8)] for d in departments}
        self.cases: list[tuple[Row, list[Stage], str]] = []

    def number(self, applied: dt.date, region: str) -> str:
        key = (applied, region)
        self.daily[key] = self.daily.get(key, 0) + 1
        return f"SC{applied:%Y%m%d}{region[2:]}{self.daily[key]:04d}"

    def add(self, matter: Matter, who: Applicant, applied: dt.date, timing: Timing, outcome: str) -> Row:
        stages, status = cut(plan(self.ctx, matter, applied, timing, outcome), self.ctx.as_of, outcome)
        case = case_row(self.ctx, matter, who, stages, status)
        case["number"] = self.number(applied, who.region)
        self.cases.append((case, stages, matter.department))
        return case

    def add_decided(self, matter: Matter, who: Applicant, decided: dt.date, earliest: dt.date) -> Row:
        return self.add(matter, who, *self._backwards(matter, decided, earliest), "grant")

    def _backwards(self, matter: Matter, decided: dt.date, earliest: dt.date) -> tuple[dt.date, Timing]:
        timing = timing_before(self.ctx, matter, decided, earliest)
        return decided - dt.timedelta(days=timing.accept_gap + timing.review_days), timing


def case_row(ctx: Ctx, matter: Matter, who: Applicant, stages: list[Stage], status: str) -> Row:
    accepted = next((s.start for s in stages if s.name == "acceptance"), None)
    promised = None if accepted is None else accepted + dt.timedelta(days=matter.promised_days)
    verdict = next((s for s in stages if s.name in ("decision", "refusal")), None)
    granted = verdict is not None and verdict.outcome not in ("不予许可", "不予受理")
    finished = status in ("completed", "refused", "withdrawn")
    return {
        "matter_code": matter.code,
        "apply_date": stages[0].start.isoformat(),
        "applicant_type": who.kind,
        "applicant_name": who.name,
        "applicant_id_type": who.id_type,
        "applicant_id": who.number,
        "legal_rep_name": who.rep,
        "agent_name": names.person_name(ctx, ctx.chance(0.6)) if ctx.chance(0.25) else None,
        "accept_date": None if accepted is None else accepted.isoformat(),
        "promised_date": None if promised is None else promised.isoformat(),
        "status": status,
        "region_code": who.region,
        "result_type": None if verdict is None else ("grant" if granted else "refuse"),
        "result_date": None if verdict is None else verdict.start.isoformat(),
        "licence_number": None,
        "satisfaction": satisfaction(ctx, status) if finished else None,
    }


def satisfaction(ctx: Ctx, status: str) -> int | None:
    if not ctx.chance(0.6):
        return None
    if status == "completed":
        return ctx.weighted(((5, 0.62), (4, 0.25), (3, 0.08), (2, 0.03), (1, 0.02)))
    return ctx.weighted(((5, 0.2), (4, 0.25), (3, 0.25), (2, 0.15), (1, 0.15)))
