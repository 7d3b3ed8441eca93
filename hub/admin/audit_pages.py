"""The disclosure audit in the console: search the log, read one record, check the
chain, and answer "who accessed this enterprise / person".

Auditors and operators read these pages; stewards and developers are refused. A steward answers
for one department, but a record is a whole request: it names every subject and field the request
showed, other departments' data included, so a steward's view would need records cut down to their
department's fields. Until that exists, refusing is the rule that leaks nothing.

Nothing on these pages changes anything. A person appears only as the keyed hash the log keeps
(``person:<hex>``); the ID number an auditor types is used to compute it and shown back only in
their own form. The search and look-up forms are POSTed (CSRF-checked like every form), so an ID
number travels in the request body and never lands in a URL, a browser's history, a Referer or
an access log; the next page of a search is a form too. A GET still answers criteria in its query
string (an enterprise's USCC is public, the record page links to it), but a person's ID number
in a query string is refused, so no bookmark or habit carries one. Bad input is answered on the
page with a 400 and the reason, never searched.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.admin.access import require
from hub.admin.audit_form import MAX_DIGITS, MAX_IDENTIFIER, asked, search_form, shown_time
from hub.admin.console import console
from hub.audit import AuditStore
from hub.audit.queries import Access, chain_status, search, who_accessed
from hub.audit.recorder import DEVELOPMENT_CLIENT
from hub.admin.i18n import N_, Said

READERS = ("operator", "auditor")


async def audit_store(request: Request) -> AuditStore:
    return console(request).audit


def row(access: Access) -> dict[str, Any]:
    """An access as the templates show it: its time in China Standard Time, subjects sorted."""
    return {
        "seq": access.seq, "when": shown_time(access.time), "time": access.time,
        "client_id": access.client_id, "department": access.department, "end_user": access.end_user,
        "purpose": access.purpose, "case_number": access.case_number,
        "operation_name": access.operation_name, "operation_hash": access.operation_hash,
        "request_id": access.request_id, "fields": sorted(access.fields.items()),
        "subjects": [(name, sorted(fields.items())) for name, fields in sorted(access.subjects.items())],
    }


@require(*READERS, reads=True)
async def search_page(request: Request) -> Response:
    context: dict[str, Any] = {"typed": {}, "rows": [], "older": None, "searched": False}
    status = 200
    params: dict[str, str] = {}
    try:
        params = await asked(request, ("subject",))
        form = search_form(params)
        context["typed"] = form.typed
        found = await search(await audit_store(request), **form.criteria)
    except ValueError as exc:
        context["typed"] = {k: v for k, v in params.items() if k != "before"}
        context["error"], status = str(exc), 400
    else:
        context["rows"] = [row(a) for a in found]
        context["searched"] = any(form.typed.values()) or form.criteria["before_seq"] is not None
        context["before"] = form.criteria["before_seq"]
        if len(found) == form.limit:
            context["older"] = form.older(found[-1].seq)
    return console(request).page(request, "audit.html", context, status_code=status)


@require(*READERS)
async def record_page(request: Request) -> Response:
    seq = request.path_params["seq"]
    found = []
    if 1 <= seq < 10**MAX_DIGITS:
        found = await search(await audit_store(request), limit=1, before_seq=seq + 1)
    if not found or found[0].seq != seq:
        message = Said.of(N_("There is no record %(seq)s."), seq=seq)
        return console(request).page(request, "problem.html", {"message": message}, 404)
    context = {"record": row(found[0]), "registered": found[0].client_id != DEVELOPMENT_CLIENT}
    return console(request).page(request, "audit_record.html", context)


@require(*READERS, reads=True)
async def who_page(request: Request) -> Response:
    try:
        typed = (await asked(request, ("identifier",))).get("identifier", "").strip()
    except ValueError as exc:
        return console(request).page(request, "audit_who.html", {"typed": "", "error": str(exc)}, 400)
    context: dict[str, Any] = {"typed": typed, "rows": [], "asked": bool(typed)}
    status = 200
    if typed:
        try:
            if len(typed) > MAX_IDENTIFIER:
                raise ValueError(N_("the identifier must be a USCC or an ID number (18 characters)"))
            accesses = await who_accessed(await audit_store(request), typed.upper())
        except ValueError as exc:
            context["error"], context["asked"], status = str(exc), False, 400
        else:
            context["rows"] = [row(a) for a in reversed(accesses)]
    return console(request).page(request, "audit_who.html", context, status_code=status)


@require(*READERS)
async def chain_page(request: Request) -> Response:
    status = await chain_status(await audit_store(request))
    context = {
        "status": status, "checked_at": shown_time(status.checked_at),
        "last_sealed_at": shown_time(status.last_sealed_at),
    }
    return console(request).page(request, "audit_chain.html", context)


def routes() -> list[Route]:
    return [
        Route("/audit", search_page, methods=["GET", "POST"]),
        Route("/audit/records/{seq:int}", record_page, methods=["GET"]),
        Route("/audit/who", who_page, methods=["GET", "POST"]),
        Route("/audit/chain", chain_page, methods=["GET"]),
    ]
