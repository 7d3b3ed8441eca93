"""Who applied for what: the cases behind the licences and registrations, then everyday casework.

Stage timestamps fall in office hours; stages on the same day follow each other minutes apart.
"""

from __future__ import annotations

import datetime as dt

from hub.demo.cases import LICENSING_RESULTS, LINK_SHARE, ONLINE_ERA_YEARS, Applicant, Centre
from hub.demo.catalogue import BY_CODE, FOR_RESULT, MATTERS, Matter
from hub.demo.context import Ctx, add_years, parse
from hub.demo.market import GONE, Row
from hub.demo.stages import Timing, review_days

LICENCE_KEYS = {
    "food_licence": "number", "construction_permit": "permit_no", "discharge_permit": "permit_number",
}
ANCHORED = frozenset(
    {"SC-MARKET-0005", "SC-MARKET-0007", "SC-MARKET-0008", "SC-MARKET-0009", "SC-CENTRE-0001"}
)
GENERAL: tuple[Matter, ...] = tuple(m for m in MATTERS if m.code not in ANCHORED)
# Granted licensing cases all come from licences; what is left is open, refused or withdrawn.
LICENSING_OUTCOMES = (("open", 0.3), ("refuse", 0.3), ("not_accepted", 0.2), ("withdrawn", 0.2))
SERVICE_OUTCOMES = (
    ("grant", 0.72), ("open", 0.1), ("refuse", 0.05), ("not_accepted", 0.05), ("withdrawn", 0.08),
)


def licensing_matter(kind: str, licence: Row) -> Matter:
    if kind == "food_licence" and licence["version"] == "002":
        return BY_CODE["SC-MARKET-0002"]
    if kind == "food_licence" and licence["related_number"]:
        return BY_CODE["SC-MARKET-0003"]
    return BY_CODE[FOR_RESULT[kind]]


def licensing_cases(ctx: Ctx, centre: Centre, kind: str, licences: list[Row]) -> None:
    """The granted cases that issued these licences; a food licence records its case."""
    since = add_years(ctx.as_of, -ONLINE_ERA_YEARS)
    for licence in licences:
        issued = parse(str(licence["issue_date"]))
        if issued < since or not ctx.chance(LINK_SHARE[kind]):
            continue
        holder = licence["_holder"]
        who = Applicant.enterprise(holder)
        who.region = str(licence["region_code"])
        registered = parse(str(holder["registration_date"]))
        case = centre.add_decided(licensing_matter(kind, licence), who, issued, registered)
        case["licence_number"] = licence[LICENCE_KEYS[kind]]
        if kind == "food_licence":
            licence["source_case"] = case["number"]


def registration_cases(ctx: Ctx, centre: Centre, enterprises: list[Row], abnormal: list[Row]) -> None:
    """Cases decided on the dates the market register itself records."""
    since = add_years(ctx.as_of, -ONLINE_ERA_YEARS)
    for holder in enterprises:
        registered = parse(str(holder["registration_date"]))
        if registered >= since:
            founding_case(ctx, centre, holder, registered)
        ended = parse(str(holder["approval_date"]))
        if holder["status"] == "注销" and ended >= since and ctx.chance(0.5):
            centre.add_decided(BY_CODE["SC-MARKET-0007"], Applicant.enterprise(holder), ended, registered)
    by_code = {str(e["uscc"]): e for e in enterprises}
    for entry in abnormal:
        removed = entry["removed_date"]
        if removed and parse(str(removed)) >= since and ctx.chance(0.6):
            holder = by_code[str(entry["uscc"])]
            centre.add_decided(BY_CODE["SC-MARKET-0009"], Applicant.enterprise(holder), parse(str(removed)),
                               parse(str(entry["listed_date"])))


def founding_case(ctx: Ctx, centre: Centre, holder: Row, registered: dt.date) -> None:
    earliest = registered - dt.timedelta(days=30)
    if holder["type"] == "个体工商户":
        if ctx.chance(0.3):
            who = Applicant.person(ctx, holder["_rep"])
            who.region = str(holder["region_code"])
            centre.add_decided(BY_CODE["SC-MARKET-0008"], who, registered, earliest)
        return
    code = ctx.weighted((("SC-MARKET-0005", 0.25), ("SC-CENTRE-0001", 0.1), (None, 0.65)))
    if code is not None:
        centre.add_decided(BY_CODE[code], Applicant.enterprise(holder), registered, earliest)


def general_case(ctx: Ctx, centre: Centre, active: list[Row], people: list[Row]) -> None:
    matter = ctx.pick(GENERAL)
    if matter.applicant == "person":
        who, earliest = Applicant.person(ctx, ctx.pick(people)), add_years(ctx.as_of, -2)
    else:
        holder = ctx.pick(active)
        who = Applicant.enterprise(holder)
        earliest = max(parse(str(holder["registration_date"])), add_years(ctx.as_of, -2))
    licensing = matter.result_type in LICENSING_RESULTS
    outcome = ctx.weighted(LICENSING_OUTCOMES if licensing else SERVICE_OUTCOMES)
    if outcome == "open":
        # Still running: applied lately and due for decision after the reference date.
        applied = max(ctx.days_ago(0, 12), earliest)
        gap = ctx.rng.randint(0, 5)
        elapsed = (ctx.as_of - applied).days - gap
        centre.add(matter, who, applied, Timing(gap, ctx.rng.randint(max(1, elapsed + 1), 20)), "grant")
        return
    applied = ctx.day(earliest, ctx.as_of)
    centre.add(matter, who, applied, Timing(ctx.rng.randint(0, 5), review_days(ctx, matter)), outcome)


def office_clock(ctx: Ctx, day: dt.date, previous: dt.datetime | None) -> dt.datetime:
    """A moment in office hours on ``day``, minutes after ``previous`` when that is the same day."""
    if previous is not None and previous.date() == day:
        return previous + dt.timedelta(minutes=ctx.rng.randint(2, 25))
    return dt.datetime(day.year, day.month, day.day, 9) + dt.timedelta(minutes=ctx.rng.randint(0, 150))


def case_handlers(ctx: Ctx, centre: Centre, department: str) -> dict[str, str]:
    """One clerk at the centre's window takes the case in; one reviewer examines; a head decides."""
    clerk, reviewer = ctx.pick(centre.staff["centre"]), ctx.pick(centre.staff[department])
    head = ctx.pick([name for name in centre.staff[department] if name != reviewer] or [reviewer])
    return {
        "application": clerk, "materials_requested": clerk, "acceptance": clerk, "refusal": clerk,
        "review": reviewer, "decision": head,
    }


def stage_rows(ctx: Ctx, centre: Centre) -> list[Row]:
    rows: list[Row] = []
    for case, stages, department in centre.cases:
        handlers = case_handlers(ctx, centre, department)
        started = office_clock(ctx, stages[0].start, None)
        for seq, stage in enumerate(stages, start=1):
            ended = None if stage.end is None else office_clock(ctx, stage.end, started)
            rows.append({
                "id": len(rows) + 1, "case_number": case["number"], "seq": seq, "stage": stage.name,
                "started_at": started.isoformat(), "ended_at": None if ended is None else ended.isoformat(),
                "outcome": stage.outcome, "handler": handlers.get(stage.name, handlers["review"]),
                "note": stage.note,
            })
            # The next stage begins the moment this one ends.
            started = ended or started
    return rows


def casework(
    ctx: Ctx,
    enterprises: list[Row],
    licences: dict[str, list[Row]],
    abnormal: list[Row],
    people: list[Row],
    target: int,
) -> tuple[list[Row], list[Row]]:
    """About ``target`` cases: those behind licences and registrations first, everyday ones after."""
    centre = Centre(ctx)
    for kind, rows in licences.items():
        licensing_cases(ctx, centre, kind, rows)
    registration_cases(ctx, centre, enterprises, abnormal)
    active = [e for e in enterprises if e["status"] not in GONE]
    living = [p for p in people if p["status"] == "正常"]
    for _ in range(max(target - len(centre.cases), 0)):
        general_case(ctx, centre, active, living)
    centre.cases.sort(key=lambda entry: (entry[0]["apply_date"], entry[0]["number"]))
    return [case for case, _, _ in centre.cases], stage_rows(ctx, centre)
