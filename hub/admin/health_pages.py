"""``/admin/health``: each department source's state now, its latency and errors over the last
hour, its cache hit rate and its last failure with the side that failed (``hub/source_health.py``).

Operators and auditors see every source; a steward sees their own department's only. With a
shared Redis every replica shows every replica's calls (``hub/source_health_shared.py``).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.admin.access import require, visitor
from hub.admin.console import console
from hub.admin.i18n import N_

READERS = ("operator", "auditor", "steward")
STATES = (N_("up"), N_("slow"), N_("down"), N_("unknown"), N_("provider"), N_("hub"))


@require(*READERS)
async def health_page(request: Request) -> Response:
    who = visitor(request)
    health = console(request).health
    departments = [who.account.department or ""] if who.role == "steward" else None
    reports, everyones = await health.current(departments)
    context = {"reports": reports, "slow_after": health.slow_after, "everyones": everyones,
               "shared": health.shared is not None}
    return console(request).page(request, "health.html", context)


def routes() -> list[Route]:
    return [Route("/health", health_page)]
