"""The registry's pages: departments and their clients. Operators change them; auditors read them.

Each form posts back, and the page is shown again with what happened or what was wrong.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hub.admin.access import FORM_REFUSALS, actor, require
from hub.admin.console import console
from hub.admin.registry_access import jwk_from_upload, registry_service
from hub.admin.usage_pages import client_use
from hub.registry.checks import STATUS_WORDS, limits_from
from hub.store import RegistryError
from hub.admin.i18n import N_
from hub.admin.notices import done

READERS = ("operator", "auditor")
WRITERS = ("operator",)
DEPARTMENTS = "/admin/departments"


async def _departments(request: Request, error: str = "", status_code: int = 200) -> Response:
    registry = console(request).stores.registry
    departments = await registry.departments()
    counts = {d.name: 0 for d in departments}
    for client in await registry.clients():
        counts[client.department] = counts.get(client.department, 0) + 1
    context = {"departments": departments, "counts": counts, "error": error}
    return console(request).page(request, "departments.html", context, status_code=status_code)


@require(*READERS)
async def departments_page(request: Request) -> Response:
    return await _departments(request)


@require(*WRITERS)
async def register_department(request: Request) -> Response:
    form = await request.form()
    try:
        department = await (await registry_service(request)).add_department(
            actor(request), form.get("name"), form.get("title"), form.get("jurisdiction")
        )
    except FORM_REFUSALS as exc:
        return await _departments(request, str(exc), exc.status)
    return RedirectResponse(done(DEPARTMENTS, "department.registered", department=department.name), status_code=303)


@require(*WRITERS)
async def department_status(request: Request) -> Response:
    form = await request.form()
    try:
        department = await (await registry_service(request)).set_department_status(
            actor(request), request.path_params["name"], form.get("status")
        )
    except FORM_REFUSALS as exc:
        return await _departments(request, str(exc), exc.status)
    code = f"department.{STATUS_WORDS[department.status]}"
    return RedirectResponse(done(DEPARTMENTS, code, department=department.name), status_code=303)


async def _clients(request: Request, error: str = "", status_code: int = 200) -> Response:
    registry = console(request).stores.registry
    chosen = request.query_params.get("department") or None
    context = {
        "departments": await registry.departments(), "clients": await registry.clients(chosen),
        "chosen": chosen or "", "error": error,
    }
    return console(request).page(request, "clients.html", context, status_code=status_code)


@require(*READERS)
async def clients_page(request: Request) -> Response:
    return await _clients(request)


@require(*WRITERS)
async def register_client(request: Request) -> Response:
    form = await request.form()
    try:
        jwk = await jwk_from_upload(form.get("jwk"))
        service = await registry_service(request)
        client = await service.register_client(actor(request), form.get("department"), form.get("name"), jwk)
    except FORM_REFUSALS as exc:
        return await _clients(request, str(exc), exc.status)
    return RedirectResponse(done(f"/admin/clients/{client.client_id}", "client registered"), status_code=303)


async def _client(request: Request, error: str = "", status_code: int = 200) -> Response:
    client = await console(request).stores.registry.client(request.path_params["client_id"])
    if client is None:  # a change refused before the client was looked up (an id no client has) says why
        message, status = (error, status_code) if error else (N_("no such client"), 404)
        return console(request).page(request, "problem.html", {"message": message}, status_code=status)
    context = {"client": client, "error": error, "use": await client_use(request, client)}
    return console(request).page(request, "client.html", context, status_code=status_code)



@require(*READERS)
async def client_page(request: Request) -> Response:
    return await _client(request)


@require(*WRITERS)
async def client_change(request: Request) -> Response:
    """Block/unblock, add a key or remove one, set its limits: the form's ``change`` field says which."""
    client_id, form = request.path_params["client_id"], await request.form()
    change, service, who = form.get("change"), await registry_service(request), actor(request)
    try:
        if change == "status":
            client = await service.set_client_status(who, client_id, form.get("status"))
            code = f"client {STATUS_WORDS[client.status]}"
        elif change == "add_key":
            await service.add_key(who, client_id, await jwk_from_upload(form.get("jwk")))
            code = "key added"
        elif change == "remove_key":
            await service.remove_key(who, client_id, form.get("kid"))
            code = "key removed"
        elif change == "limits":
            defaults = console(request).fair_use.settings.defaults
            await service.set_limits(who, client_id, limits_from(form, defaults))
            code = "limits set"
        else:
            raise RegistryError("unknown change")
    except FORM_REFUSALS as exc:
        return await _client(request, str(exc), exc.status)
    return RedirectResponse(done(f"/admin/clients/{client_id}", code), status_code=303)


def routes() -> list[Route]:
    return [
        Route("/departments", departments_page, methods=["GET"]),
        Route("/departments", register_department, methods=["POST"]),
        Route("/departments/{name}/status", department_status, methods=["POST"]),
        Route("/clients", clients_page, methods=["GET"]),
        Route("/clients", register_client, methods=["POST"]),
        Route("/clients/{client_id}", client_page, methods=["GET"]),
        Route("/clients/{client_id}", client_change, methods=["POST"]),
    ]
