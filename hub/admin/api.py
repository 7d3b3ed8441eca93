"""The admin API under ``/admin/api``: JSON for what the pages do, behind the same session.

A changing call carries the session's CSRF token in ``X-CSRF-Token`` (``GET /admin/api/me`` gives
it) and the console's Origin. Errors are ``{"error", "message"}`` with 400, 401, 403 or 404.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub.admin import admin_log, developer
from hub.admin import registry_actions as actions
from hub.admin.access import ANY_ROLE, act_for_department, json_object, require, visitor
from hub.admin.console import console
from hub.store import ClientRecord, DepartmentRecord, RegistryError

WRITERS = ("operator",)


def bad_request(message: str, status_code: int = 400) -> JSONResponse:
    return JSONResponse({"error": "bad_request", "message": message}, status_code=status_code)


async def _body(request: Request) -> dict[str, Any]:
    return await json_object(request, RegistryError)


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
    found = await (await console(request).stores()).registry.departments()
    return JSONResponse({"departments": [department_json(d) for d in found]})


@require(*ANY_ROLE)
async def clients(request: Request) -> Response:
    """Operators and auditors see every client; a steward or developer only their department's."""
    who = visitor(request)
    department = request.query_params.get("department") or who.account.department
    if department is not None:
        act_for_department(who, department)
    found = await (await console(request).stores()).registry.clients(department)
    return JSONResponse({"clients": [client_json(c) for c in found]})


def _changes(handler: Any) -> Any:
    """Registry refusals as 400 with their message."""
    async def run(request: Request) -> Response:
        try:
            return await handler(request)  # type: ignore[no-any-return]
        except RegistryError as exc:
            return bad_request(str(exc))

    run.__name__ = handler.__name__
    return run


@require(*WRITERS)
@_changes
async def register_department(request: Request) -> Response:
    body = await _body(request)
    department = await actions.register_department(
        request, body.get("name"), body.get("title"), body.get("jurisdiction")
    )
    return JSONResponse(department_json(department), status_code=201)


@require(*WRITERS)
@_changes
async def department_status(request: Request) -> Response:
    body = await _body(request)
    department = await actions.set_department_status(request, request.path_params["name"], body.get("status"))
    return JSONResponse(department_json(department))


@require(*WRITERS)
@_changes
async def register_client(request: Request) -> Response:
    body = await _body(request)
    given = body.get("jwk")
    jwk = actions.jwk_from_json(given if isinstance(given, dict) else "null")
    client = await actions.register_client(request, body.get("department"), body.get("name"), jwk)
    return JSONResponse(client_json(client), status_code=201)


@require(*WRITERS)
@_changes
async def client_status(request: Request) -> Response:
    body = await _body(request)
    client = await actions.set_client_status(request, request.path_params["client_id"], body.get("status"))
    return JSONResponse(client_json(client))


@require(*WRITERS)
@_changes
async def add_key(request: Request) -> Response:
    body = await _body(request)
    given = body.get("jwk")
    jwk = actions.jwk_from_json(given if isinstance(given, dict) else "null")
    client = await actions.add_key(request, request.path_params["client_id"], jwk)
    return JSONResponse(client_json(client), status_code=201)


@require(*WRITERS)
@_changes
async def remove_key(request: Request) -> Response:
    params = request.path_params
    client = await actions.remove_key(request, params["client_id"], params["kid"])
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
        *admin_log.api_routes(),
        *developer.api_routes(),
    ]
