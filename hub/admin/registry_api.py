"""The admin API under ``/admin/api``: JSON for what the pages do, behind the same session.

A changing call carries the session's CSRF token in ``X-CSRF-Token`` (``GET /admin/api/me`` gives
it) and the console's Origin. Errors are ``{"error", "message"}`` with 400, 401, 403, 404 or 409
(``hub.admin.access.refused``).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub.admin.access import ANY_ROLE, act_for_department, actor, json_object, require, visitor
from hub.admin.console import console
from hub.admin.registry_access import registry_service
from hub.registry.checks import jwk_from_json
from hub.store import ClientRecord, DepartmentRecord

WRITERS = ("operator",)


def client_json(client: ClientRecord) -> dict[str, Any]:
    return {
        "client_id": client.client_id, "department": client.department, "name": client.name,
        "status": client.status, "active": client.active, "kids": [k["kid"] for k in client.keys],
        "scopes": sorted(client.scopes),
    }


def department_json(department: DepartmentRecord) -> dict[str, Any]:
    return asdict(department)


@require(*ANY_ROLE)
async def me(request: Request) -> Response:
    who = visitor(request)
    account = who.account
    return JSONResponse({
        "username": account.username, "display_name": account.display_name, "role": account.role,
        "department": account.department, "clients": sorted(account.clients),
        "totp_enabled": account.totp_enabled, "csrf_token": who.csrf_token,
    })


@require("operator", "auditor")
async def departments(request: Request) -> Response:
    found = await console(request).stores.registry.departments()
    return JSONResponse({"departments": [department_json(d) for d in found]})


@require(*ANY_ROLE)
async def clients(request: Request) -> Response:
    """Operators and auditors see every client; a steward or developer only their department's."""
    who = visitor(request)
    department = request.query_params.get("department") or who.account.department
    if department is not None:
        act_for_department(who, department)
    found = await console(request).stores.registry.clients(department)
    return JSONResponse({"clients": [client_json(c) for c in found]})


@require(*WRITERS)
async def register_department(request: Request) -> Response:
    body = await json_object(request)
    department = await (await registry_service(request)).add_department(
        actor(request), body.get("name"), body.get("title"), body.get("jurisdiction")
    )
    return JSONResponse(department_json(department), status_code=201)


@require(*WRITERS)
async def department_status(request: Request) -> Response:
    body = await json_object(request)
    service = await registry_service(request)
    department = await service.set_department_status(actor(request), request.path_params["name"], body.get("status"))
    return JSONResponse(department_json(department))


@require(*WRITERS)
async def register_client(request: Request) -> Response:
    body = await json_object(request)
    given = body.get("jwk")
    jwk = jwk_from_json(given if isinstance(given, dict) else "null")
    service = await registry_service(request)
    client = await service.register_client(actor(request), body.get("department"), body.get("name"), jwk)
    return JSONResponse(client_json(client), status_code=201)


@require(*WRITERS)
async def client_status(request: Request) -> Response:
    body = await json_object(request)
    service = await registry_service(request)
    client = await service.set_client_status(actor(request), request.path_params["client_id"], body.get("status"))
    return JSONResponse(client_json(client))


@require(*WRITERS)
async def add_key(request: Request) -> Response:
    body = await json_object(request)
    given = body.get("jwk")
    jwk = jwk_from_json(given if isinstance(given, dict) else "null")
    client = await (await registry_service(request)).add_key(actor(request), request.path_params["client_id"], jwk)
    return JSONResponse(client_json(client), status_code=201)


@require(*WRITERS)
async def remove_key(request: Request) -> Response:
    params = request.path_params
    client = await (await registry_service(request)).remove_key(actor(request), params["client_id"], params["kid"])
    return JSONResponse(client_json(client))


def routes() -> list[Route]:
    return [
        Route("/me", me),
        Route("/departments", departments, methods=["GET"]),
        Route("/departments", register_department, methods=["POST"]),
        Route("/departments/{name}/status", department_status, methods=["POST"]),
        Route("/clients", clients, methods=["GET"]),
        Route("/clients", register_client, methods=["POST"]),
        Route("/clients/{client_id}/status", client_status, methods=["POST"]),
        Route("/clients/{client_id}/keys", add_key, methods=["POST"]),
        Route("/clients/{client_id}/keys/{kid}", remove_key, methods=["DELETE"]),
    ]
