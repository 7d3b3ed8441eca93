"""The grant workflow's pages (issue 6 item 3): requests, the owner's inbox, grants and their changes.

A consuming department's steward requests catalogue scopes for one of their clients (checkboxes,
never free text); unconditional ones are granted at once, conditional ones wait in the owning
department's inbox with their deadline, shown to both sides. The owner approves, or refuses with a
reason. Grants are listed as owner and as consumer, with a "recertify soon" flag, and are
recertified, narrowed or revoked here. The operator does everything; an auditor reads; a developer
sees none of it. The service (``hub.grants``) decides and records every change on the admin log.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote_plus

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hub.admin.access import Visitor, require, visitor
from hub.admin.catalogue_pages import current_catalogue
from hub.admin.console import console
from hub.admin.grant_access import (
    CHANGERS, READERS, RECERTIFY_WITHIN_DAYS, NotFound, actor, desk, grant_service, known_grant,
    known_request, readable_department,
)
from hub.grants import Forbidden, Grant, GrantError, GrantRequest
from hub.admin.i18n import ENGLISH, N_, when

Action = Callable[[Request, FormData], Awaitable[str]]
WORDS = re.compile(r"[\s,]+")


def day(seconds: int) -> str:
    return when(ENGLISH, seconds)


def may(who: Visitor, action: str, item: Grant | GrantRequest) -> bool:
    """Which buttons to show; the service checks again (and records) when one is pressed."""
    if who.role == "operator":
        return True
    if who.role != "steward":
        return False
    mine = who.account.department
    if action == "revoke":
        return mine in (item.owner_department, item.consumer_department)
    if action == "withdraw":
        return mine == item.consumer_department
    return mine == item.owner_department  # approve, refuse, recertify, amend: the data owner's


@require(*READERS)
async def grants_page(request: Request) -> Response:
    who, service = visitor(request), await grant_service(request)
    department = readable_department(who, request.query_params.get("department"))
    registry = (await console(request).stores()).registry
    context = {
        "desk": await desk(service, department), "now": service.now(),
        "within": RECERTIFY_WITHIN_DAYS, "may": lambda action, item: may(who, action, item),
        "departments": await registry.departments(), "done": request.query_params.get("done", ""),
    }
    return console(request).page(request, "grants.html", context)


async def _request_form(
    request: Request, form: FormData | None = None, error: str = "", status_code: int = 200
) -> Response:
    who = visitor(request)
    registry = (await console(request).stores()).registry
    catalogue = current_catalogue(request)
    owners: dict[str, list[Any]] = {}
    for entry in catalogue.scopes:
        owners.setdefault(entry.owner, []).append(entry)
    titles = {d.id: d.title for d in catalogue.departments}
    context = {
        "clients": await registry.clients(who.account.department if who.role == "steward" else None),
        "owners": sorted(owners.items()), "titles": titles, "error": error,
        "chosen": set(form.getlist("scope")) if form else set(), "form": form or {},
    }
    return console(request).page(request, "request_grant.html", context, status_code=status_code)


@require(*CHANGERS)
async def request_page(request: Request) -> Response:
    return await _request_form(request)


@require(*CHANGERS)
async def make_request(request: Request) -> Response:
    form = await request.form()
    try:
        days = str(form.get("duration_days") or "").strip()
        if not days.isdigit() or len(days) > 5:
            raise GrantError(N_("duration is a whole number of days, 1 to 1095"))
        purposes = [p for p in WORDS.split(str(form.get("purposes") or "")) if p]
        asked = await (await grant_service(request)).request(
            actor(request), str(form.get("client_id") or ""), [str(s) for s in form.getlist("scope")],
            purposes, str(form.get("legal_basis") or ""), int(days),
        )
    except Forbidden as exc:
        return console(request).page(request, "grant_problem.html", {"message": str(exc)}, 403)
    except GrantError as exc:
        return await _request_form(request, form, str(exc), 400)
    done = f"granted at once as {asked.grant_id}"
    if asked.grant_id is None:
        owner, deadline = asked.owner_department, day(asked.deadline)
        done = f"request {asked.request_id} sent to {owner}, to answer by {deadline}"
    return RedirectResponse(f"/admin/grants?done={quote_plus(done)}", status_code=303)


def _changing(action: Action) -> Callable[[Request], Awaitable[Response]]:
    """A form posted from the grants page: do it, then back to the page saying what was done or wrong."""
    async def run(request: Request) -> Response:
        form = await request.form()
        try:
            done = await action(request, form)
        except Forbidden as exc:
            return console(request).page(request, "grant_problem.html", {"message": str(exc)}, 403)
        except NotFound as exc:
            return console(request).page(request, "grant_problem.html", {"message": str(exc)}, 404)
        except GrantError as exc:
            return console(request).page(request, "grant_problem.html", {"message": str(exc)}, 400)
        return RedirectResponse(f"/admin/grants?done={quote_plus(done)}", status_code=303)

    run.__name__ = action.__name__
    return require(*CHANGERS)(run)


async def approve(request: Request, form: FormData) -> str:
    service = await grant_service(request)
    asked = await known_request(service, request.path_params["request_id"])
    grant = await service.approve(actor(request), asked.request_id)
    return f"request {asked.request_id} approved: grant {grant.grant_id} until {day(grant.valid_to)}"


async def refuse(request: Request, form: FormData) -> str:
    service = await grant_service(request)
    asked = await known_request(service, request.path_params["request_id"])
    await service.refuse(actor(request), asked.request_id, str(form.get("reason") or ""))
    return f"request {asked.request_id} refused"


async def withdraw(request: Request, form: FormData) -> str:
    service = await grant_service(request)
    asked = await known_request(service, request.path_params["request_id"])
    await service.withdraw(actor(request), asked.request_id, str(form.get("reason") or "") or None)
    return f"request {asked.request_id} withdrawn"


async def revoke(request: Request, form: FormData) -> str:
    service = await grant_service(request)
    grant = await known_grant(service, request.path_params["grant_id"])
    await service.revoke(actor(request), grant.grant_id, str(form.get("reason") or ""))
    return f"grant {grant.grant_id} revoked"


async def recertify(request: Request, form: FormData) -> str:
    service = await grant_service(request)
    grant = await known_grant(service, request.path_params["grant_id"])
    renewed = await service.recertify(actor(request), grant.grant_id)
    return f"grant {grant.grant_id} recertified until {day(renewed.valid_to)}"


async def remove_purpose(request: Request, form: FormData) -> str:
    service = await grant_service(request)
    grant = await known_grant(service, request.path_params["grant_id"])
    purpose = str(form.get("purpose") or "")
    reason = str(form.get("reason") or "") or None
    await service.amend(actor(request), grant.grant_id, [purpose] if purpose else [], reason)
    return f"purpose {purpose} removed from grant {grant.grant_id}"


async def set_quota(request: Request, form: FormData) -> str:
    service = await grant_service(request)
    grant = await known_grant(service, request.path_params["grant_id"])
    raw = str(form.get("daily_quota") or "").strip()
    if raw and (not raw.isdigit() or len(raw) > 9):
        raise GrantError("a quota is a whole number of subjects a day (empty: no quota)")
    reason = str(form.get("reason") or "").strip() or None
    changed = await service.set_quota(actor(request), grant.grant_id, int(raw) if raw else None, reason)
    shown = f"{changed.daily_quota} subjects a day per scope" if changed.daily_quota else "no quota"
    return f"grant {grant.grant_id}: {shown}"


def routes() -> list[Route]:
    return [
        Route("/grants", grants_page, methods=["GET"]),
        Route("/grants/request", request_page, methods=["GET"]),
        Route("/grants/request", make_request, methods=["POST"]),
        Route("/grant-requests/{request_id}/approve", _changing(approve), methods=["POST"]),
        Route("/grant-requests/{request_id}/refuse", _changing(refuse), methods=["POST"]),
        Route("/grant-requests/{request_id}/withdraw", _changing(withdraw), methods=["POST"]),
        Route("/grants/{grant_id}/revoke", _changing(revoke), methods=["POST"]),
        Route("/grants/{grant_id}/recertify", _changing(recertify), methods=["POST"]),
        Route("/grants/{grant_id}/remove-purpose", _changing(remove_purpose), methods=["POST"]),
        Route("/grants/{grant_id}/quota", _changing(set_quota), methods=["POST"]),
    ]
