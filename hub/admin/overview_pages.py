"""The overview, the console's landing page for operators, auditors and stewards (a steward sees
their department's clients and grant work): requests and disclosures per department and client
over 24 hours and 30 days, drawn and tabled; refusals by kind; grant requests waiting and overdue;
grants to recertify soon; the audit chain's state and last seal (``overview_data``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hub.admin.access import visitor
from hub.admin.charts import Bar, bar_chart
from hub.admin.console import console, language_of
from hub.admin.grant_access import RECERTIFY_WITHIN_DAYS, grant_service
from hub.admin.i18n import N_, say
from hub.admin.overview_data import Usage, refusals, usage

READERS = ("operator", "auditor", "steward")
KINDS = (N_("refused"), N_("rejected"), N_("invalid"), N_("timeout"), N_("unrecorded"))


async def overview_page(request: Request) -> Response:
    who = visitor(request)
    department = who.account.department if who.role == "steward" else None
    parts = console(request)
    engine = parts.stores.registry.engine
    store = parts.audit
    now = dt.datetime.now(dt.UTC)
    used = await usage(engine, now, department)
    language = language_of(request, who)
    clients = None
    if department is not None:  # a steward: their department's clients' refusals only
        registry = console(request).stores.registry
        clients = {c.client_id for c in await registry.clients(department)}
    context: dict[str, Any] = {
        "department": department, "usage": used, "charts": charts(used, language),
        "refusals": refusals(parts.metrics.registry, clients), "chain": await parts.chain_watch.state(store),
        **await grant_work(request, department),
    }
    return console(request).page(request, "overview.html", context)


async def grant_work(request: Request, department: str | None) -> dict[str, Any]:
    service = await grant_service(request)
    if department is None:
        waiting = await service.requests(status="pending")
    else:
        waiting = await service.requests(department=department, side="owner", status="pending")
    due = await service.due_for_recertification(RECERTIFY_WITHIN_DAYS, department=department)
    return {"waiting": waiting, "overdue": [r for r in waiting if r.overdue], "due": due,
            "within": RECERTIFY_WITHIN_DAYS, "now": service.now()}


def charts(used: Usage, language: str) -> dict[str, Any]:
    requests, disclosures = say(language, N_("requests")), say(language, N_("disclosures"))
    hours = [Bar(f"{h:%H}", u.requests, f"{h:%m-%d %H}:00 · {u.requests} {requests} · {u.disclosures} {disclosures}")
             for h, u in used.hours]
    days = [Bar(f"{d:%d}", u.disclosures, f"{d:%Y-%m-%d} · {u.requests} {requests} · {u.disclosures} {disclosures}")
            for d, u in used.days]
    return {
        "hours": bar_chart(hours, say(language, N_("Requests per hour, last 24 hours (CST)")), every=3),
        "days": bar_chart(days, say(language, N_("Disclosures per day, last 30 days (CST)")), every=5),
    }
