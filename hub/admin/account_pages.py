"""The signed-in person's own account: who they are, changing their password, and enrolling a TOTP
second factor.

A new password needs the current one (a wrong one counts towards the account's lock, as at
sign-in); once it is set, every session of the account ends and this browser gets a new one, so
whoever else held a session (or the old password) is out.

Enrolment shows a new secret as text, as an ``otpauth://`` URI and as that URI's QR code (an SVG
data URI made here with segno, so the page loads nothing from elsewhere; any authenticator app
takes one of them); it is saved only when a code made from it is entered, so a mistyped secret never locks
anyone out. Replacing a secret already on also needs a code from the current one: a session left
open must not let someone swap the account's second factor for their own (a wrong code counts
towards the account's lock, as at sign-in).
"""

from __future__ import annotations

import re

import segno
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hub.admin.access import ANY_ROLE, SESSION_COOKIE, require, visitor
from hub.admin.admin_log_access import noting
from hub.admin.console import console
from hub.accounts.credentials import CredentialError, new_totp_secret, totp_step, totp_uri
from hub.admin.sessions import FULL
from hub.admin.signin_pages import set_cookie
from hub.admin.i18n import N_

SECRET = re.compile(r"[A-Z2-7]{32}")  # 160 bits in RFC 4648 base32, as new_totp_secret makes them


@require(*ANY_ROLE)
async def account_page(request: Request) -> Response:
    return console(request).page(request, "account.html")


@require(*ANY_ROLE)
async def password_page(request: Request) -> Response:
    return console(request).page(request, "password.html")


@require(*ANY_ROLE, own_account=True)
async def password_change(request: Request) -> Response:
    form = await request.form()
    current, new, again = (str(form.get(name) or "") for name in ("current", "new", "again"))
    who = visitor(request)
    username = who.account.username
    stores = console(request).stores
    if new != again:
        return _password_problem(request, N_("The two new passwords differ."))
    if new == current:
        return _password_problem(request, N_("Choose a password other than the current one."))
    if await stores.accounts.sign_in(username, current) is None:
        message = N_("The current password is wrong (repeated failures lock the account for a while).")
        return _password_problem(request, message)
    try:
        await stores.accounts.set_password(
            username, new, noted=noting(request, lambda name: ("account.password_changed", name, {}))
        )
    except CredentialError as exc:
        # A message of its own inside this one: the page translates both (hub/admin/messages.py).
        return _password_problem(request, f"The new password cannot be used: {exc}.")
    await stores.sessions.close_all(username)
    token, _ = await stores.sessions.open(username, FULL)
    response = RedirectResponse("/admin/account?done=password", status_code=303)
    set_cookie(response, SESSION_COOKIE, token)
    return response


def _password_problem(request: Request, error: str) -> Response:
    return console(request).page(request, "password.html", {"error": error}, status_code=400)


def _enrolment(request: Request, secret: str, error: str = "", status_code: int = 200) -> Response:
    uri = totp_uri(secret, visitor(request).account.username)
    context = {"secret": secret, "uri": uri, "qr": qr_code(uri), "error": error}
    return console(request).page(request, "totp_enrol.html", context, status_code=status_code)


def qr_code(uri: str) -> str:
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=4))


@require(*ANY_ROLE)
async def totp_enrolment(request: Request) -> Response:
    return _enrolment(request, new_totp_secret())


@require(*ANY_ROLE, own_account=True)
async def totp_enrol(request: Request) -> Response:
    form = await request.form()
    secret, code = str(form.get("secret") or ""), str(form.get("code") or "")
    if not SECRET.fullmatch(secret):
        message = N_("That secret is not one the console made; try again.")
        return _enrolment(request, new_totp_secret(), message, 400)
    who = visitor(request)
    stores = console(request).stores
    current = str(form.get("current") or "")
    if who.account.totp_enabled and not await stores.accounts.second_factor(who.account.username, current):
        message = N_("Enter a code from the app you use now to replace its secret.")
        return _enrolment(request, secret, message, 400)
    step = totp_step(secret, code, 0)
    if step is None:
        return _enrolment(request, secret, N_("That code does not match the secret; check the app's clock."), 400)
    # The code just shown has been used: it must not pass the next sign-in.
    await stores.accounts.set_totp(
        who.account.username, secret, used_step=step,
        noted=noting(request, lambda username: ("account.totp_enabled", username, {})),
    )
    return RedirectResponse("/admin/account?done=totp", status_code=303)


def routes() -> list[Route]:
    return [
        Route("/account", account_page),
        Route("/account/password", password_page, methods=["GET"]),
        Route("/account/password", password_change, methods=["POST"]),
        Route("/account/totp", totp_enrolment, methods=["GET"]),
        Route("/account/totp", totp_enrol, methods=["POST"]),
    ]
