"""The admin actions log as JSON under ``/admin/api/admin-log``, for operators and auditors."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub.admin.access import require
from hub.admin.admin_log_access import READERS, as_json, entries


@require(*READERS)
async def log_api(request: Request) -> Response:
    return JSONResponse({"actions": [as_json(e) for e in await entries(request)]})


def routes() -> list[Route]:
    return [Route("/admin-log", log_api)]
