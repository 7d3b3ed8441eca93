"""The catalogue of shared data in the console: every resource and field with its
owner, sharing class, scope, mask, purposes and update cycle, and the JSON and CSV exports.

Every signed-in role reads it: a developer plans queries with it, a steward checks what their
department publishes, an auditor compares it with what was disclosed. It is generated on each
request from the running hub's graph, loaded policies and bindings (about 10 ms), so the page can
never drift from what the hub enforces; the downloads are ``hub.catalogue``'s exports, byte for byte.
"""

from __future__ import annotations

import dataclasses

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.binding import load_bindings
from hub.admin.access import ANY_ROLE, require
from hub.admin.console import console
from hub.catalogue import Catalogue, build_catalogue, to_csv, to_json
from hub.admin.i18n import N_, Said
from hub.fairuse.catalogue import fair_use_section

EXPORTS = {
    "json": ("application/json", "catalogue.json"),
    "csv": ("text/csv; charset=utf-8", "catalogue.csv"),
}


def current_catalogue(request: Request) -> Catalogue:
    parts = console(request)
    return build_catalogue(parts.graphql_schema, parts.policies, load_bindings(parts.settings.bindings_dir))


@require(*ANY_ROLE)
async def catalogue_page(request: Request) -> Response:
    catalogue = current_catalogue(request)
    chosen = request.query_params.get("department", "")
    known = {d.id for d in catalogue.departments}
    error: Said | str = ""
    status = 200
    if chosen and chosen not in known:
        text = N_("There is no department %(department)s in the catalogue; choose one from the list.")
        error, status = Said.of(text, department=repr(chosen[:64])), 400
    resources = [r for r in catalogue.resources if not chosen or r.department == chosen]
    context = {
        "catalogue": catalogue, "resources": [] if error else resources, "chosen": chosen,
        "titles": {d.id: d for d in catalogue.departments}, "error": error,
        "field_count": sum(len(r.fields) for r in resources) if not error else 0,
    }
    return console(request).page(request, "catalogue.html", context, status_code=status)


@require(*ANY_ROLE)
async def catalogue_export(request: Request) -> Response:
    kind = request.path_params["kind"]
    if kind not in EXPORTS:
        return console(request).page(request, "problem.html", {"message": N_("There is no such export.")}, 404)
    registry = console(request).stores.registry
    fair_use = fair_use_section(console(request).settings.fair_use, await registry.clients())
    catalogue = dataclasses.replace(current_catalogue(request), fair_use=fair_use)
    body = to_json(catalogue) if kind == "json" else to_csv(catalogue).encode("utf-8")
    media_type, filename = EXPORTS[kind]
    return Response(body, media_type=media_type,
                    headers={"content-disposition": f'attachment; filename="{filename}"'})


def routes() -> list[Route]:
    return [
        Route("/catalogue", catalogue_page, methods=["GET"]),
        Route("/catalogue.{kind}", catalogue_export, methods=["GET"]),
    ]
