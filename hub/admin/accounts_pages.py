"""The operator's page of console accounts: list, create, disable and enable (auditors read).

A first password is set here, for the person to change at Your account (``account_pages.py``); an
operator resets a forgotten one with ``hub admin set-password``. Disabling an account ends its
sessions at once.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hub.accounts import AccountService
from hub.accounts.oidc_links import OidcLinks
from hub.admin.access import FORM_REFUSALS, Forbidden, actor, require, visitor
from hub.accounts.store import ROLES
from hub.admin.console import console
from hub.admin.i18n import N_
from hub.admin.notices import done

ACCOUNTS = "/admin/accounts"


async def _page(request: Request, error: str = "", status_code: int = 200) -> Response:
    stores = console(request).stores
    context = {
        "accounts": await stores.accounts.all(), "roles": ROLES,
        "departments": await stores.registry.departments(),
        "error": error,
    }
    return console(request).page(request, "accounts.html", context, status_code=status_code)


@require("operator", "auditor")
async def accounts_page(request: Request) -> Response:
    return await _page(request)


@require("operator")
async def create_account(request: Request) -> Response:
    form = await request.form()
    fields = {name: str(form.get(name) or "").strip() for name in ("username", "name", "role", "department")}
    clients = frozenset(c.strip() for c in str(form.get("clients") or "").split(",") if c.strip())
    try:
        account = await (await _service(request)).create(
            actor(request), fields["username"], fields["name"][:200], fields["role"], str(form.get("password") or ""),
            fields["department"] or None, clients,
        )
    except FORM_REFUSALS as exc:  # an account or a password that cannot be: the form again, saying why
        return await _page(request, str(exc), exc.status)
    return RedirectResponse(done(ACCOUNTS, "account.created", username=account.username), status_code=303)


@require("operator")
async def account_status(request: Request) -> Response:
    username, form = request.path_params["username"], await request.form()
    disabled = form.get("disabled") == "true"
    if username == visitor(request).account.username:
        raise Forbidden(N_("you cannot disable your own account here; another operator can"))
    stores = console(request).stores
    try:
        await (await _service(request)).set_disabled(actor(request), username, disabled)
    except FORM_REFUSALS as exc:
        return await _page(request, str(exc), exc.status)
    if disabled:
        await stores.sessions.close_all(username)
    code = "account.disabled" if disabled else "account.enabled"
    return RedirectResponse(done(ACCOUNTS, code, username=username), status_code=303)


async def _service(request: Request) -> AccountService:
    stores = console(request).stores
    return AccountService(stores.accounts, OidcLinks(stores.registry.engine))


def routes() -> list[Route]:
    return [
        Route("/accounts", accounts_page, methods=["GET"]),
        Route("/accounts", create_account, methods=["POST"]),
        Route("/accounts/{username}/status", account_status, methods=["POST"]),
    ]
