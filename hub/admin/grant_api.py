"""The admin API for grants, under ``/admin/api``: the grant pages' work as JSON.

GET/POST /grants (read; grant at once: the operator), POST /grants/{id}/revoke, GET/POST
/grant-requests (read; request scopes for a client), POST /grant-requests/{id}/approve|refuse.
Same session, Origin and ``X-CSRF-Token`` as the rest of the admin API. Errors are
``{"error", "message"}``: 400 bad input, 403 forbidden, 404 an unknown id, 409 a request or grant
whose state forbids it (``hub.admin.access.refused``).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub.admin.access import actor, json_object, require, visitor
from hub.admin.grant_access import (
    CHANGERS, READERS, SIDES, grant_service, readable_department, visible_grants, visible_requests,
)
from hub.grants import Grant, GrantError, GrantRequest
from hub.grants.checks import GRANT_ID, REQUEST_ID, checked_id
from hub.grants.reading import Side


def grant_json(grant: Grant) -> dict[str, Any]:
    return {**asdict(grant), "scopes": sorted(grant.scopes), "purposes": sorted(grant.purposes)}


def request_json(asked: GrantRequest) -> dict[str, Any]:
    return {**asdict(asked), "scopes": sorted(asked.scopes), "purposes": sorted(asked.purposes)}


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise GrantError(f"{name} must be a string")
    return value


def _names(body: dict[str, Any], name: str) -> list[str]:
    value = body.get(name)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise GrantError(f"{name} must be a list of strings")
    return value


def _asking(body: dict[str, Any]) -> tuple[str, list[str], list[str], str, int]:
    days = body.get("duration_days")
    if isinstance(days, bool) or not isinstance(days, int):
        raise GrantError("duration_days must be a whole number of days (1 to 1095)")
    return _text(body, "client_id"), _names(body, "scopes"), _names(body, "purposes"), \
        _text(body, "legal_basis"), days


def _side(request: Request) -> Side | None:
    side = request.query_params.get("side") or None
    if side is not None and side not in SIDES:
        raise GrantError("side is owner or consumer")
    return side


@require(*READERS)
async def list_grants(request: Request) -> Response:
    department = readable_department(visitor(request), request.query_params.get("department"))
    client_id = request.query_params.get("client_id") or None
    found = await visible_grants(await grant_service(request), department, _side(request), client_id)
    return JSONResponse({"grants": [grant_json(g) for g in found]})


@require("operator")
async def grant_now(request: Request) -> Response:
    grant = await (await grant_service(request)).grant_now(actor(request), *_asking(await json_object(request)))
    return JSONResponse(grant_json(grant), status_code=201)


@require(*CHANGERS)
async def revoke(request: Request) -> Response:
    grant_id = checked_id(request.path_params["grant_id"], GRANT_ID, "grant")
    reason = _text(await json_object(request), "reason")
    return JSONResponse(grant_json(await (await grant_service(request)).revoke(actor(request), grant_id, reason)))


@require(*READERS)
async def list_requests(request: Request) -> Response:
    department = readable_department(visitor(request), request.query_params.get("department"))
    status = request.query_params.get("status") or None
    found = await visible_requests(await grant_service(request), department, _side(request), status)
    return JSONResponse({"requests": [request_json(r) for r in found]})


@require(*CHANGERS)
async def make_request(request: Request) -> Response:
    asked = await (await grant_service(request)).request(actor(request), *_asking(await json_object(request)))
    return JSONResponse(request_json(asked), status_code=201)


@require(*CHANGERS)
async def approve(request: Request) -> Response:
    request_id = checked_id(request.path_params["request_id"], REQUEST_ID, "grant request")
    grant = await (await grant_service(request)).approve(actor(request), request_id)
    return JSONResponse(grant_json(grant), status_code=201)


@require(*CHANGERS)
async def refuse(request: Request) -> Response:
    request_id = checked_id(request.path_params["request_id"], REQUEST_ID, "grant request")
    reason = _text(await json_object(request), "reason")
    return JSONResponse(request_json(await (await grant_service(request)).refuse(actor(request), request_id, reason)))


def routes() -> list[Route]:
    return [
        Route("/grants", list_grants, methods=["GET"]),
        Route("/grants", grant_now, methods=["POST"]),
        Route("/grants/{grant_id}/revoke", revoke, methods=["POST"]),
        Route("/grant-requests", list_requests, methods=["GET"]),
        Route("/grant-requests", make_request, methods=["POST"]),
        Route("/grant-requests/{request_id}/approve", approve, methods=["POST"]),
        Route("/grant-requests/{request_id}/refuse", refuse, methods=["POST"]),
    ]
