"""What the overview page shows, read cheaply from what the hub already keeps.

Requests and disclosures come from ``audit_usage`` (one row per hour and client, written with each
group of audit records): at most 30 x 24 rows per client, never the log itself. "Requests" are
audit records (one per answered request), "disclosures" the subjects they disclosed. Refusals come
from this process's metrics (since it started). Grant work comes from the grant tables; the
chain's state from a check of the records since the last seal (the chain page checks the whole
log).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.admin.i18n import CST
from hub.audit.store import AuditStore
from hub.audit.tables import AuditHeadRow, AuditSealRow, AuditUsageRow
from hub.audit.verify import verify

DAYS = 30


@dataclass
class Use:
    requests: int = 0
    disclosures: int = 0

    def add(self, records: int, subjects: int) -> None:
        self.requests += records
        self.disclosures += subjects


@dataclass
class Usage:
    """Requests and disclosures per department and client over 24 hours and 30 days, and as series."""

    by_department: dict[str, tuple[Use, Use]] = field(default_factory=dict)  # (24 h, 30 days)
    by_client: dict[str, tuple[Use, Use]] = field(default_factory=dict)
    hours: list[tuple[dt.datetime, Use]] = field(default_factory=list)  # the last 24 hours, CST
    days: list[tuple[dt.date, Use]] = field(default_factory=list)  # the last 30 days, CST


def hour_key(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H")


async def usage(engine: AsyncEngine, now: dt.datetime, department: str | None = None) -> Usage:
    """The last 30 days of ``audit_usage`` (of ``department``'s clients only, when given), summed by
    the database: one row per hour and one per client come back, whatever the log's size."""
    this_hour = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    first_day = this_hour.astimezone(CST).date() - dt.timedelta(days=DAYS - 1)
    since = hour_key(dt.datetime.combine(first_day, dt.time(), CST))
    recent = hour_key(this_hour - dt.timedelta(hours=23))
    row = AuditUsageRow
    within = [row.hour >= since] + ([row.department == department] if department is not None else [])
    per_hour = select(row.hour, func.sum(row.records), func.sum(row.subjects)).where(*within).group_by(row.hour)
    last_day = case((row.hour >= recent, row.records), else_=0), case((row.hour >= recent, row.subjects), else_=0)
    per_client = select(
        row.client_id, row.department, func.sum(row.records), func.sum(row.subjects),
        func.sum(last_day[0]), func.sum(last_day[1]),
    ).where(*within).group_by(row.client_id, row.department)
    async with engine.connect() as conn:
        hours, clients = (await conn.execute(per_hour)).all(), (await conn.execute(per_client)).all()
    return _summed(hours, clients, this_hour, first_day)


def _summed(hours: Iterable[Any], clients: Iterable[Any], this_hour: dt.datetime, first_day: dt.date) -> Usage:
    last_24 = [this_hour - dt.timedelta(hours=n) for n in range(23, -1, -1)]
    by_hour = {hour_key(h): Use() for h in last_24}
    by_day = {first_day + dt.timedelta(days=n): Use() for n in range(DAYS)}
    for hour, records, subjects in hours:
        started = dt.datetime(int(hour[:4]), int(hour[5:7]), int(hour[8:10]), int(hour[11:13]), tzinfo=dt.UTC)
        day = by_day.get(started.astimezone(CST).date())
        if day is not None:  # else an hour ahead of this replica's clock
            day.add(int(records), int(subjects))
        if hour in by_hour:
            by_hour[hour].add(int(records), int(subjects))
    departments: dict[str, tuple[Use, Use]] = defaultdict(lambda: (Use(), Use()))
    per_client: dict[str, tuple[Use, Use]] = {}
    for client_id, department, records, subjects, day_records, day_subjects in clients:
        mine = per_client.setdefault(client_id, (Use(), Use()))
        for totals in (mine, departments[department]):
            totals[0].add(int(day_records), int(day_subjects))
            totals[1].add(int(records), int(subjects))
    return Usage(
        dict(sorted(departments.items())), dict(sorted(per_client.items())),
        [(h.astimezone(CST), by_hour[hour_key(h)]) for h in last_24], sorted(by_day.items()),
    )


@dataclass(frozen=True, slots=True)
class ChainState:
    records: int
    last_sealed_seq: int | None
    last_sealed_at: str | None
    checked_since: int | None  # the seal the check started from
    findings: int
    checked_at: float = 0.0  # wall-clock seconds


class ChainWatch:
    """The chain's state for the overview, checked at most every ``every`` seconds per process and
    off the page's path: a view finding it stale starts a new check and shows the last one (with
    its time); only the first view waits. An incremental check still reads the whole subject
    index today, which grows with the log, so it is kept out of each view."""

    def __init__(self, every: float = 60.0) -> None:
        self.every = every
        self.last: ChainState | None = None
        self._checking: asyncio.Task[ChainState] | None = None

    async def state(self, store: AuditStore) -> ChainState:
        if self.last is None:
            return await self._check(store)
        stale = time.time() - self.last.checked_at > self.every
        if stale and (self._checking is None or self._checking.done()):
            self._checking = asyncio.create_task(self._check(store))
        return self.last

    async def _check(self, store: AuditStore) -> ChainState:
        self.last = await chain_state(store)
        return self.last


async def chain_state(store: AuditStore) -> ChainState:
    """The records since the last seal checked now; nothing checked when there is no seal yet."""
    seal = select(AuditSealRow.seq, AuditSealRow.sealed_at).order_by(AuditSealRow.seq.desc()).limit(1)
    async with store.engine.connect() as conn:
        latest = (await conn.execute(seal)).first()
        head = (await conn.execute(select(AuditHeadRow.seq).where(AuditHeadRow.id == 1))).scalar()
    if latest is None:
        return ChainState(int(head or 0), None, None, None, 0, time.time())
    report = await verify(store, since_seal=latest.seq)
    return ChainState(report.last_seq, latest.seq, latest.sealed_at, latest.seq, len(report.findings), time.time())


def refusals(registry: CollectorRegistry, clients: Collection[str] | None = None) -> list[tuple[str, str, int]]:
    """Refused requests by kind since this process started: (family, kind, count), largest first.

    ``clients`` given (a steward's department's), only their fair-use refusals: the other counters
    are the whole hub's, with no client to tell a department's from another's.
    """
    wanted = {
        "hub_graphql_requests": ("outcome", {"refused", "rejected", "invalid", "timeout", "unrecorded"}),
        "hub_fair_use_refusals": ("kind", None),
        "hub_unavailable": ("code", None),
    }
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for metric in registry.collect():
        if metric.name not in wanted or (clients is not None and metric.name != "hub_fair_use_refusals"):
            continue
        label, kinds = wanted[metric.name]
        for sample in metric.samples:
            kind = sample.labels.get(label, "")
            if clients is not None and sample.labels.get("client") not in clients:
                continue
            if sample.name.endswith("_total") and (kinds is None or kind in kinds) and sample.value:
                counts[(metric.name, kind)] += int(sample.value)
    return sorted(((f, k, n) for (f, k), n in counts.items()), key=lambda item: (-item[2], item[1]))
