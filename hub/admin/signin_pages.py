"""Sign-in (password, then the TOTP code when the account has one), sign-out, the home page.

The sign-in form is protected before any session exists by a double-submit token: a random
value in a ``__Host-`` cookie and the same value in the form, plus the Origin check. Each step
that raises what a session may do opens a new session (``Sessions.open`` rotates). Every wrong
password or code also counts against the address it came from (``throttle.py``); an address over
its limit is answered 429 before any password or code is checked.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hub.admin.access import ANY_ROLE, SESSION_COOKIE, forbidden, require, same_origin, visitor
from hub.admin.console import console
from hub.admin.sessions import FULL, SECOND_FACTOR_DUE
from hub.admin.i18n import N_, Said

SIGNIN_COOKIE = "__Host-hub-signin"
WRONG = N_("Wrong username, password or code, or the account is locked for a while after repeated failures.")


def set_cookie(response: Response, name: str, value: str) -> None:
    """Only over HTTPS, never to scripts, never sent with a request from another site."""
    response.set_cookie(name, value, path="/", secure=True, httponly=True, samesite="strict")


def safe_next(target: str | None) -> str:
    """Back to a console page after sign-in, never to another site (open redirects)."""
    if target and target.startswith("/admin") and "//" not in target and "\\" not in target:
        return target
    return "/admin/"


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


async def throttled(request: Request, wait: int) -> Response:
    minutes = -(-wait // 60)
    message = Said.of(N_("Too many failed sign-ins from your address; try again in %(minutes)s min."), minutes=minutes)
    response = await signin_page(request, message, status_code=429)
    response.headers["retry-after"] = str(wait)
    return response


async def signin_page(request: Request, error: str | Said = "", status_code: int = 200) -> Response:
    found = await console(request).visitor(request)
    if found is not None and found.session.stage == FULL and request.method == "GET":
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    token = secrets.token_urlsafe(32)
    context = {"signin_csrf": token, "next": safe_next(request.query_params.get("next")), "error": error}
    settings = console(request).settings
    context["oidc_name"] = settings.oidc_name if settings.oidc_enabled else ""  # hub/admin/oidc_pages.py
    response = console(request).page(request, "signin.html", context, status_code=status_code)
    set_cookie(response, SIGNIN_COOKIE, token)
    return response


async def signin(request: Request) -> Response:
    form = await request.form()
    cookie, sent = request.cookies.get(SIGNIN_COOKIE, ""), str(form.get("csrf") or "")
    if not same_origin(request) or not cookie or not hmac.compare_digest(cookie.encode(), sent.encode()):
        return forbidden(request, N_("the sign-in form has expired or did not come from the console; reload it"))
    stores = console(request).stores
    address = client_address(request)
    wait = await stores.throttle.wait(address)
    if wait:
        return await throttled(request, wait)
    username, password = str(form.get("username") or "").strip().lower(), str(form.get("password") or "")
    account = await stores.accounts.sign_in(username, password) if username and password else None
    if account is None:
        await stores.throttle.failed(address)
        return await signin_page(request, WRONG, status_code=401)
    stage = SECOND_FACTOR_DUE if account.totp_enabled else FULL
    token, _ = await stores.sessions.open(username, stage, replacing=request.cookies.get(SESSION_COOKIE))
    target = "/admin/signin/totp" if stage == SECOND_FACTOR_DUE else safe_next(str(form.get("next") or ""))
    response = RedirectResponse(target, status_code=303)
    set_cookie(response, SESSION_COOKIE, token)
    response.delete_cookie(SIGNIN_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response


async def second_factor_page(request: Request) -> Response:
    stores = console(request).stores
    token = request.cookies.get(SESSION_COOKIE, "")
    pending = await stores.sessions.find(token) if token else None
    if pending is None or pending.stage != SECOND_FACTOR_DUE:
        return RedirectResponse("/admin/signin", status_code=303)
    if request.method == "GET":
        return console(request).page(request, "totp.html", {"csrf": pending.csrf_token, "error": ""})
    form = await request.form()
    sent = str(form.get("csrf") or "")
    if not same_origin(request) or not hmac.compare_digest(sent.encode(), pending.csrf_token.encode()):
        return forbidden(request, N_("the form has expired or did not come from the console; sign in again"))
    address = client_address(request)
    wait = await stores.throttle.wait(address)
    if wait:
        return await throttled(request, wait)
    if not await stores.accounts.second_factor(pending.username, str(form.get("code") or "")):
        await stores.throttle.failed(address)
        return console(request).page(
            request, "totp.html", {"csrf": pending.csrf_token, "error": WRONG}, status_code=401
        )
    new_token, _ = await stores.sessions.open(pending.username, FULL, replacing=token)
    response = RedirectResponse("/admin/", status_code=303)
    set_cookie(response, SESSION_COOKIE, new_token)
    return response


@require(*ANY_ROLE, own_account=True)
async def signout(request: Request) -> Response:
    await console(request).stores.sessions.close(visitor(request).session_token)
    response = RedirectResponse("/admin/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response


@require(*ANY_ROLE)
async def home(request: Request) -> Response:
    """The overview for those who watch the hub (hub/admin/overview_pages.py); developers' own start."""
    from hub.admin import overview_pages

    if visitor(request).role in overview_pages.READERS:
        return await overview_pages.overview_page(request)
    return console(request).page(request, "home.html")


def routes() -> list[Route]:
    return [
        Route("/", home),
        Route("/signin", signin_page, methods=["GET"]),
        Route("/signin", signin, methods=["POST"]),
        Route("/signin/totp", second_factor_page, methods=["GET", "POST"]),
        Route("/signout", signout, methods=["POST"]),
    ]
