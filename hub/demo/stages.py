"""A case's path through the statutory clock, planned in full and then cut at the reference date.

Acceptance comes within 5 days of application (after a request for missing materials, sometimes),
the decision within 20 days of acceptance (a special procedure such as an on-site inspection
pauses the clock inside that), and the certificate within days of the decision. Whatever would
happen after the reference date has not happened yet: that stage is open, or absent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hub.demo.catalogue import Matter
from hub.demo.context import Ctx

DAY = dt.timedelta(days=1)
GRANTED = {"行政许可": "准予许可", "行政确认": "予以确认", "公共服务": "准予办理"}
# Status of a case whose latest stage is still running (decisions are instant, never running).
OPEN_STATUS = {
    "application": "submitted", "materials_requested": "submitted", "acceptance": "accepted",
    "review": "in_review", "special_procedure": "in_review", "completion": "decided",
    "certificate_issued": "decided",
}
FINAL_STATUS = {
    "grant": "completed", "refuse": "refused", "not_accepted": "refused", "withdrawn": "withdrawn",
}


@dataclass
class Stage:
    name: str
    start: dt.date
    end: dt.date | None
    outcome: str | None
    note: str


@dataclass
class Timing:
    """Days from application to acceptance, and from acceptance to decision."""

    accept_gap: int
    review_days: int


def review_days(ctx: Ctx, matter: Matter) -> int:
    # Most cases beat the promised limit; some run past it but stay inside the legal 20 days.
    if ctx.chance(0.9):
        return ctx.rng.randint(1, matter.promised_days)
    return ctx.rng.randint(matter.promised_days, 20)


def timing_before(ctx: Ctx, matter: Matter, decided: dt.date, earliest: dt.date) -> Timing:
    """Timing for a case whose decision date is known, starting no earlier than ``earliest``."""
    room = max((decided - earliest).days, 0)
    review = min(review_days(ctx, matter), room)
    return Timing(min(ctx.rng.randint(0, 5), room - review), review)


def intake(ctx: Ctx, matter: Matter, applied: dt.date, gap: int, outcome: str) -> list[Stage]:
    accepted = applied + gap * DAY
    channel = "网上申报" if matter.online and ctx.chance(0.7) else "窗口收件"
    if gap >= 2 and ctx.chance(0.3):
        asked = applied + ctx.rng.randint(0, gap - 2) * DAY
        missing = ctx.pick([m[0] for m in matter.materials if not m[3]] or ["申请书"])
        stages = [Stage("application", applied, asked, "材料不全", channel),
                  Stage("materials_requested", asked, accepted, "已补正", f"一次性告知补正：{missing}")]
    else:
        stages = [Stage("application", applied, accepted, "已提交", channel)]
    if outcome == "not_accepted":
        return [*stages, Stage("refusal", accepted, accepted, "不予受理", "申请材料不齐全且逾期未补正")]
    return [*stages, Stage("acceptance", accepted, accepted, "受理", "材料齐全，符合法定形式，予以受理")]


def review(ctx: Ctx, accepted: dt.date, days: int, outcome: str) -> list[Stage]:
    decided = accepted + days * DAY
    start = accepted + min(ctx.rng.randint(0, 1), days) * DAY
    if outcome == "withdrawn":
        return [Stage("review", start, ctx.day(start, decided), "申请人撤回", "申请人主动撤回申请")]
    if days >= 8 and ctx.chance(0.12):
        paused = start + ctx.rng.randint(1, days - 6) * DAY
        resumed = paused + ctx.rng.randint(2, 5) * DAY
        note = ctx.pick(("现场核查", "专家评审", "听证", "检验检测"))
        return [Stage("review", start, paused, "转特别程序", "书面审查"),
                Stage("special_procedure", paused, resumed, "已完成", f"{note}，暂停计时{(resumed - paused).days}日"),
                Stage("review", resumed, decided, "审查完毕", "恢复计时")]
    return [Stage("review", start, decided, "审查通过" if outcome == "grant" else "审查不通过", "书面审查")]


def conclusion(ctx: Ctx, matter: Matter, decided: dt.date, outcome: str) -> list[Stage]:
    if outcome == "refuse":
        return [Stage("decision", decided, decided, "不予许可", "不符合法定条件，书面告知理由及救济途径"),
                Stage("completion", decided, decided + ctx.rng.randint(0, 2) * DAY, "办结", "不予许可决定书已送达")]
    closed = decided + ctx.rng.randint(0, 2) * DAY
    stages = [Stage("decision", decided, decided, GRANTED[matter.matter_type], "符合法定条件"),
              Stage("completion", decided, closed, "办结", "办结")]
    if matter.matter_type == "行政许可":
        delivery = ctx.pick(("电子证照已签发，窗口领取", "电子证照已签发，纸质证照邮寄送达"))
        issued = closed + ctx.rng.randint(0, 1) * DAY
        stages.append(Stage("certificate_issued", closed, issued, "已发证", delivery))
    return stages


def plan(ctx: Ctx, matter: Matter, applied: dt.date, timing: Timing, outcome: str) -> list[Stage]:
    """Every stage the case will go through, dates possibly beyond the reference date."""
    stages = intake(ctx, matter, applied, timing.accept_gap, outcome)
    if outcome == "not_accepted":
        return stages
    examination = review(ctx, stages[-1].start, timing.review_days, outcome)
    # An accepted case waits for its reviewer: acceptance lasts until the review begins.
    stages[-1].end = examination[0].start
    stages += examination
    if outcome == "withdrawn":
        return stages
    return stages + conclusion(ctx, matter, stages[-1].end or applied, outcome)


def cut(stages: list[Stage], as_of: dt.date, outcome: str) -> tuple[list[Stage], str]:
    """The stages that have begun by ``as_of`` (the running one left open) and the case status.

    Each stage starts when the one before ends, so a case cut short always has one running stage.
    """
    kept: list[Stage] = []
    for stage in stages:
        if stage.start > as_of:
            break
        kept.append(stage)
        if stage.end is not None and stage.end > as_of:
            stage.end, stage.outcome = None, None
            break
    if len(kept) == len(stages) and kept[-1].end is not None:
        return kept, FINAL_STATUS[outcome]
    return kept, OPEN_STATUS[kept[-1].name]
