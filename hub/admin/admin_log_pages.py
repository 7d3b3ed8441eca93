"""The admin actions log's page, for operators and auditors (``admin_log_access.py``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.admin.access import require
from hub.admin.admin_log_access import READERS, as_json, entries
from hub.admin.console import console


@require(*READERS)
async def log_page(request: Request) -> Response:
    shown = [as_json(e) for e in await entries(request)]  # times shown in CST by the template
    context = {"entries": shown, "query": request.query_params}
    return console(request).page(request, "admin_log.html", context)


def routes() -> list[Route]:
    return [Route("/admin-log", log_page)]
