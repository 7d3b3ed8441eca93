"""The grant workflow's pages: requests, the owner's inbox, grants and their changes.

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

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hub.admin.access import FORM_REFUSALS, Visitor, actor, require, visitor
from hub.admin.catalogue_pages import current_catalogue
from hub.admin.console import console
from hub.admin.grant_access import (
    CHANGERS, READERS, RECERTIFY_WITHIN_DAYS, desk, grant_service, readable_department,
)
from hub.grants import Grant, GrantError, GrantRequest
from hub.grants.checks import GRANT_ID, REQUEST_ID, checked_id
from hub.admin.i18n import N_
from hub.admin.notices import done

Action = Callable[[Request, FormData], Awaitable[str]]
WORDS = re.compile(r"[\s,]+")
GRANTS = "/admin/grants"
PROBLEM = "grant_problem.html"  # a refusal's page, leading back to the grants


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
    registry = console(request).stores.registry
    context = {
        "desk": await desk(service, department), "now": service.now(),
        "within": RECERTIFY_WITHIN_DAYS, "may": lambda action, item: may(who, action, item),
        "departments": await registry.departments(),
    }
    return console(request).page(request, "grants.html", context)


async def _request_form(
    request: Request, form: FormData | None = None, error: str = "", status_code: int = 200
) -> Response:
    who = visitor(request)
    registry = console(request).stores.registry
    catalogue = current_catalogue(request)
    owners: dict[str, list[Any]] = {}
    for entry in catalogue.scopes:
        owners.setdefault(entry.owner, []).append(entry)
    titles = {d.id: d for d in catalogue.departments}
    context = {
        "declared": console(request).policies.declared_scopes,
        "resources": {r.name: r for r in catalogue.resources},
        "clients": await registry.clients(who.account.department if who.role == "steward" else None),
        "owners": sorted(owners.items()), "titles": titles, "error": error,
        "chosen": set(form.getlist("scope")) if form else set(), "form": form or {},
    }
    return console(request).page(request, "request_grant.html", context, status_code=status_code)


@require(*CHANGERS)
async def request_page(request: Request) -> Response:
    return await _request_form(request)


@require(*CHANGERS, problem=PROBLEM)
async def make_request(request: Request) -> Response:
    form = await request.form()
    try:
        days = str(form.get("duration_days") or "").strip()
        if not days.isascii() or not days.isdigit() or len(days) > 5:
            raise GrantError(N_("duration is a whole number of days, 1 to 1095"))
        purposes = [p for p in WORDS.split(str(form.get("purposes") or "")) if p]
        asked = await (await grant_service(request)).request(
            actor(request), str(form.get("client_id") or ""), [str(s) for s in form.getlist("scope")],
            purposes, str(form.get("legal_basis") or ""), int(days),
        )
    except FORM_REFUSALS as exc:
        return await _request_form(request, form, str(exc), exc.status)
    if asked.grant_id is None:
        sent = done(GRANTS, "request.sent", request=asked.request_id, owner=asked.owner_department,
                    deadline=asked.deadline)
        return RedirectResponse(sent, status_code=303)
    return RedirectResponse(done(GRANTS, "grant.granted", grant=asked.grant_id), status_code=303)


def _changing(action: Action) -> Callable[[Request], Awaitable[Response]]:
    """A form posted from the grants page: do it, then back to the page saying what was done, or
    the refusal on the grants' problem page (``require``)."""
    async def run(request: Request) -> Response:
        return RedirectResponse(await action(request, await request.form()), status_code=303)

    run.__name__ = action.__name__
    return require(*CHANGERS, problem=PROBLEM)(run)


async def approve(request: Request, form: FormData) -> str:
    request_id = _request_id(request)
    grant = await (await grant_service(request)).approve(actor(request), request_id)
    return done(GRANTS, "request.approved", request=request_id, grant=grant.grant_id, until=grant.valid_to)


async def refuse(request: Request, form: FormData) -> str:
    request_id = _request_id(request)
    await (await grant_service(request)).refuse(actor(request), request_id, str(form.get("reason") or ""))
    return done(GRANTS, "request.refused", request=request_id)


async def withdraw(request: Request, form: FormData) -> str:
    request_id = _request_id(request)
    await (await grant_service(request)).withdraw(actor(request), request_id, str(form.get("reason") or "") or None)
    return done(GRANTS, "request.withdrawn", request=request_id)


async def revoke(request: Request, form: FormData) -> str:
    grant_id = _grant_id(request)
    await (await grant_service(request)).revoke(actor(request), grant_id, str(form.get("reason") or ""))
    return done(GRANTS, "grant.revoked", grant=grant_id)


async def recertify(request: Request, form: FormData) -> str:
    grant_id = _grant_id(request)
    renewed = await (await grant_service(request)).recertify(actor(request), grant_id)
    return done(GRANTS, "grant.recertified", grant=grant_id, until=renewed.valid_to)


async def remove_purpose(request: Request, form: FormData) -> str:
    grant_id = _grant_id(request)
    purpose = str(form.get("purpose") or "")
    reason = str(form.get("reason") or "") or None
    await (await grant_service(request)).amend(actor(request), grant_id, [purpose] if purpose else [], reason)
    return done(GRANTS, "grant.purpose_removed", purpose=purpose, grant=grant_id)


async def set_quota(request: Request, form: FormData) -> str:
    grant_id = _grant_id(request)
    raw = str(form.get("daily_quota") or "").strip()
    if raw and (not raw.isascii() or not raw.isdigit() or len(raw) > 9):
        raise GrantError("a quota is a whole number of subjects a day (empty: no quota)")
    reason = str(form.get("reason") or "").strip() or None
    service = await grant_service(request)
    changed = await service.set_quota(actor(request), grant_id, int(raw) if raw else None, reason)
    if changed.daily_quota:
        return done(GRANTS, "grant.quota", grant=grant_id, quota=changed.daily_quota)
    return done(GRANTS, "grant.no_quota", grant=grant_id)


def _grant_id(request: Request) -> str:
    return checked_id(request.path_params["grant_id"], GRANT_ID, "grant")


def _request_id(request: Request) -> str:
    return checked_id(request.path_params["request_id"], REQUEST_ID, "grant request")


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
