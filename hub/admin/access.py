"""Who may do what in the console: the one place the rule is written.

Every admin page and API route is wrapped by ``require(role, ...)``. The guard, in order:
a signed-out visitor is sent to the sign-in page (``/admin/api``: 401); a session still owing
its second factor reaches only the TOTP page; a changing request (not GET/HEAD) must come from
the console's own origin and carry the session's CSRF token (form field ``csrf`` or header
``X-CSRF-Token``); the role must be one of those named; an auditor changes nothing (only their
own sign-out and second factor, routes marked ``own_account``, and searches sent in a POST body so
that a person's ID number stays out of URLs, routes marked ``reads``). A steward's or developer's
department is checked by ``act_for_department`` wherever a route names a department. A refusal
the route raises (``hub.errors``: bad input, conflict, forbidden, not found) is answered by the guard, once
for every page and API route, with its kind's status (``refused``).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from hub import errors
from hub.accounts.store import ROLES, Account
from hub.admin.i18n import N_, Said
from hub.admin.sessions import FULL, SignedIn
from hub.grants.model import Actor, Role

SCOPE_KEY = "hub.admin.console"  # where the admin app puts its console in each request's scope

Endpoint = Callable[[Request], Awaitable[Response]]
ANY_ROLE = ROLES
SAFE_METHODS = frozenset({"GET", "HEAD"})
READ_ONLY_ROLES = frozenset({"auditor"})
SESSION_COOKIE = "__Host-hub-admin"
CSRF_HEADER = "x-csrf-token"
MAX_BODY = 64 * 1024
CANNOT_OPEN = {
    "operator": N_("an operator cannot open this page"),
    "steward": N_("a steward cannot open this page"),
    "auditor": N_("an auditor cannot open this page"),
    "developer": N_("a developer cannot open this page"),
}


class Forbidden(errors.Forbidden):
    """The signed-in visitor may not do this; the message says why (shown to them)."""


# What an endpoint may raise for ``require`` to answer: the caller's to fix. An outage
# (``hub.errors.Unavailable``) goes on to ``hub.faults.edge``: 503 with ``Retry-After``.
REFUSALS = (errors.BadInput, errors.Conflict, errors.Forbidden, errors.NotFound)
# What a form shows beside its input (with the kind's status) rather than on the problem page.
FORM_REFUSALS = (errors.BadInput, errors.Conflict)


@dataclass(frozen=True, slots=True)
class Visitor:
    """The signed-in person behind this request."""

    account: Account
    session: SignedIn
    session_token: str

    @property
    def role(self) -> str:
        return self.account.role

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token


def visitor(request: Request) -> Visitor:
    """The visitor ``require`` admitted; only routes behind ``require`` call this."""
    found: Visitor = request.state.visitor
    return found


def actor(request: Request) -> Actor:
    """The visitor as the services' ``Actor`` (console accounts hold the same four roles)."""
    account = visitor(request).account
    return Actor(account.username, cast(Role, account.role), account.department)


def act_for_department(who: Visitor, department: str) -> None:
    """Operators act for every department; a steward or developer only for their own."""
    if who.role in ("steward", "developer") and who.account.department != department:
        raise Forbidden(Said.of(
            N_("you act for department %(yours)s, not %(asked)s"), yours=who.account.department, asked=department,
        ))


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/admin/api")


def require(
    *roles: str, own_account: bool = False, reads: bool = False, problem: str = "problem.html"
) -> Callable[[Endpoint], Endpoint]:
    """Admit a signed-in visitor of one of ``roles`` (and, for a change, this session's CSRF token);
    a refusal the endpoint raises (``hub.errors``) is answered here, its page drawn by ``problem``."""
    def wrap(endpoint: Endpoint) -> Endpoint:
        async def guarded(request: Request) -> Response:
            found = await _console(request).visitor(request)
            if found is None or found.session.stage != FULL:
                return signed_out(request)
            request.state.visitor = found  # a refusal's page, too, is in their language, with their bar
            refusal = _refusal(request, found, roles, own_account or reads) or await _forgery(request, found)
            if refusal is not None:
                return refusal
            try:
                return await endpoint(request)
            except REFUSALS as exc:
                return refused(request, exc, problem)

        guarded.__name__ = getattr(endpoint, "__name__", "guarded")
        return guarded

    return wrap


def _refusal(request: Request, who: Visitor, roles: tuple[str, ...], may_post: bool) -> Response | None:
    if request.method not in SAFE_METHODS and who.role in READ_ONLY_ROLES and not may_post:
        return forbidden(request, N_("an auditor reads; changes are made by others"))
    if who.role not in roles:
        return forbidden(request, CANNOT_OPEN[who.role])
    return None


async def _forgery(request: Request, who: Visitor) -> Response | None:
    """A changing request from elsewhere, or without this session's CSRF token, is refused."""
    if request.method in SAFE_METHODS:
        return None
    if not same_origin(request):
        return forbidden(request, N_("this request did not come from the console's own pages"))
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and not is_api(request):
        sent = str((await request.form()).get("csrf") or "")
    if not sent or not hmac.compare_digest(sent.encode(), who.csrf_token.encode()):
        return forbidden(request, N_("the form has expired or did not come from the console; reload the page"))
    return None


async def json_object(request: Request) -> dict[str, Any]:
    """The request's body as a JSON object; bad JSON, JSON nested too deep to parse (a 64 KB body
    of ``[`` exhausts the parser's recursion) or any other value is ``BadInput``."""
    try:
        value = await request.json()
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, dict):
        raise errors.BadInput("the body must be a JSON object")
    return value


def same_origin(request: Request) -> bool:
    """The Origin header names this console (as the browser reached it); a missing one is refused."""
    origin = request.headers.get("origin")
    if not origin:
        return False
    sent = urlsplit(origin)
    return f"{sent.scheme}://{sent.netloc}" == f"{request.url.scheme}://{request.url.netloc}"


def signed_out(request: Request) -> Response:
    if is_api(request):
        return JSONResponse({"error": "signed_out", "message": "sign in at /admin/signin"}, status_code=401)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/admin/signin?next={quote(target, safe='')}", status_code=303)


def refused(request: Request, refusal: errors.HubError, problem: str = "problem.html") -> Response:
    """The console's one answer to a refusal: its kind's status, and ``{"error", "message"}`` (the
    kind's word) from the JSON API or the ``problem`` page with the message in the visitor's language."""
    message = refusal.args[0] if refusal.args else ""
    if is_api(request):
        return JSONResponse({"error": refusal.error, "message": str(message)}, status_code=refusal.status)
    return _console(request).page(request, problem, {"message": message}, status_code=refusal.status)


def forbidden(request: Request, message: str | Said) -> Response:
    return _problem(request, 403, message)


def too_large(request: Request) -> Response:
    return _problem(request, 413, Said.of(N_("the request is too large (at most %(kb)s KB)"), kb=MAX_BODY // 1024))


def _problem(request: Request, status: int, message: str | Said) -> Response:
    """A page in the visitor's language; the JSON API keeps its English message."""
    if is_api(request):
        return JSONResponse({"error": "forbidden" if status == 403 else "refused", "message": str(message)},
                            status_code=status)
    return _console(request).page(request, "problem.html", {"message": message}, status_code=status)


class _Pages(Protocol):
    """What the rule needs of the console (``hub.admin.console.Console``): who is signed in, a page."""

    async def visitor(self, request: Request) -> Visitor | None: ...
    def page(self, request: Request, template: str, context: dict[str, Any] | None = None,
             status_code: int = 200) -> Response: ...


def _console(request: Request) -> _Pages:
    found: _Pages = request.scope[SCOPE_KEY]
    return found
