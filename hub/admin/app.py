"""``admin_app(Console(SECTIONS, ...))``: the console's ASGI app, mounted at ``/admin`` by ``hub.app``.

To add a page: write ``routes()`` in a module of this package (endpoints wrapped by
``access.require``), list them in ``_routes`` and, for the navigation bar, add a ``Section``.
JSON routes go in an ``<area>_api.py`` module's ``routes()``, listed in ``_api_routes`` (served under
``/admin/api``). A module is named for its area and what it is: ``<area>_pages.py`` (HTML),
``<area>_api.py`` (JSON), ``<area>_access.py`` (the area as the console sees it, shared by both:
who may, what a path or form may name); the rest is the console itself (``console.py``, ``access.py``,
sessions, languages, messages).
"""

from __future__ import annotations

from pathlib import Path

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, Router, request_response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.admin import (
    account_pages, accounts_pages, admin_log_api, admin_log_pages, audit_pages, catalogue_pages, developer_api,
    developer_pages, grant_api, grant_pages, health_pages, language_pages, oidc_pages, registry_api,
    registry_pages, signin_pages, usage_pages,
)
from hub.admin.developer_access import DEVELOPERS
from hub.admin.i18n import N_
from hub.bounded_body import BodyTooLarge, bounded_receive, declared_length_fits
from hub.admin.access import ANY_ROLE, MAX_BODY, SCOPE_KEY, is_api, require, signed_out, too_large
from hub.admin.console import Console, Section, console

STATIC = Path(__file__).resolve().parent / "static"
# No inline script or style anywhere in the console: the policy can forbid both.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; "
        # GraphiQL (developer_pages.py) calls /graphql from its page and brings its fonts as data: URLs.
        "connect-src 'self'; font-src data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}

SECTIONS = [
    Section(N_("Departments"), "/admin/departments", ("operator", "auditor")),
    Section(N_("Clients"), "/admin/clients", ("operator", "auditor")),
    Section(N_("Accounts"), "/admin/accounts", ("operator", "auditor")),
    Section(N_("Grants"), "/admin/grants", ("operator", "steward", "auditor")),
    Section(N_("Usage"), "/admin/usage", usage_pages.READERS),
    Section(N_("Admin log"), "/admin/admin-log", ("operator", "auditor")),
    Section(N_("Health"), "/admin/health", health_pages.READERS),
    Section(N_("Catalogue"), "/admin/catalogue", ANY_ROLE),
    Section(N_("Audit"), "/admin/audit", audit_pages.READERS),
    Section(N_("Developer"), "/admin/developer", DEVELOPERS),
]


class AdminApp:
    """The console's router, with its ``Console`` in every request's scope, the security headers
    on every response (the sign-in page and errors included) and every request body held to
    ``MAX_BODY``, signed in or not: a declared length over it is refused before routing, and a body
    without one (chunked) is cut off where it passes the limit, before anything parses it."""

    def __init__(self, console: Console, app: ASGIApp) -> None:
        self.console, self.app = console, app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope[SCOPE_KEY] = self.console
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        if not declared_length_fits(Headers(scope=scope).get("content-length"), MAX_BODY):
            await _too_large(scope, receive, send_with_headers)
            return
        try:
            await self.app(scope, bounded_receive(receive, MAX_BODY), send_with_headers)
        except BodyTooLarge:
            if started:
                raise
            await _too_large(scope, receive, send_with_headers)


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    response = too_large(Request(scope, receive))
    await response(scope, receive, send)


@require(*ANY_ROLE)
async def not_found(request: Request) -> Response:
    """Signed out, any unknown path leads to the sign-in page too (``require``); signed in, a 404."""
    if is_api(request):
        return JSONResponse({"error": "not_found", "message": "no such admin API route"}, status_code=404)
    return console(request).page(request, "problem.html", {"message": N_("There is no such page.")}, 404)


async def method_not_allowed(request: Request, exc: Exception) -> Response:
    """Signed out, a path known for another method leads to the sign-in page like any other."""
    who = await console(request).visitor(request)
    if who is None:
        return signed_out(request)
    request.state.visitor = who  # the page keeps its bar: the person's sections and sign-out
    if is_api(request):
        return JSONResponse({"error": "method_not_allowed", "message": "not with this method"}, status_code=405)
    return console(request).page(request, "problem.html", {"message": N_("Not with this method.")}, 405)


def _routes() -> list[Route | Mount]:
    return [
        *signin_pages.routes(),
        *language_pages.routes(),
        *oidc_pages.routes(),
        *account_pages.routes(),
        *accounts_pages.routes(),
        *registry_pages.routes(),
        *usage_pages.routes(),
        *admin_log_pages.routes(),
        *grant_pages.routes(),
        *catalogue_pages.routes(),
        *health_pages.routes(),
        *audit_pages.routes(),
        *developer_pages.routes(),
        Mount("/api", app=Router(_api_routes(), default=request_response(not_found))),
        Mount("/static", app=StaticFiles(directory=STATIC)),
    ]


def _api_routes() -> list[Route]:
    return [*registry_api.routes(), *grant_api.routes(), *admin_log_api.routes(), *developer_api.routes()]


def admin_app(parts: Console) -> AdminApp:
    """The console's routes over the parts its pages read (``Console``, built by ``hub.app`` with
    ``SECTIONS`` from the hub's parts)."""
    router = Router(_routes(), default=request_response(not_found))
    return AdminApp(parts, ExceptionMiddleware(router, handlers={405: method_not_allowed}))
