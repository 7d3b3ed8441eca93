"""The signed-in person's own account: who they are, and enrolling a TOTP second factor.

Enrolment shows a new secret as text and as an ``otpauth://`` URI (any authenticator app takes
either); it is saved only when a code made from it is entered, so a mistyped secret never locks
anyone out. Replacing a secret already on also needs a code from the current one: a session left
open must not let someone swap the account's second factor for their own (a wrong code counts
towards the account's lock, as at sign-in).
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hub.admin.access import ANY_ROLE, require, visitor
from hub.admin.admin_log import noting
from hub.admin.console import console
from hub.admin.credentials import new_totp_secret, totp_step, totp_uri

SECRET = re.compile(r"[A-Z2-7]{32}")  # 160 bits in RFC 4648 base32, as new_totp_secret makes them


@require(*ANY_ROLE)
async def account_page(request: Request) -> Response:
    return console(request).page(request, "account.html")


def _enrolment(request: Request, secret: str, error: str = "", status_code: int = 200) -> Response:
    uri = totp_uri(secret, visitor(request).account.username)
    return console(request).page(
        request, "totp_enrol.html", {"secret": secret, "uri": uri, "error": error}, status_code=status_code
    )


@require(*ANY_ROLE)
async def totp_enrolment(request: Request) -> Response:
    return _enrolment(request, new_totp_secret())


@require(*ANY_ROLE, own_account=True)
async def totp_enrol(request: Request) -> Response:
    form = await request.form()
    secret, code = str(form.get("secret") or ""), str(form.get("code") or "")
    if not SECRET.fullmatch(secret):
        message = "That secret is not one the console made; try again."
        return _enrolment(request, new_totp_secret(), message, 400)
    who = visitor(request)
    stores = await console(request).stores()
    current = str(form.get("current") or "")
    if who.account.totp_enabled and not await stores.accounts.second_factor(who.account.username, current):
        message = "Enter a code from the app you use now to replace its secret."
        return _enrolment(request, secret, message, 400)
    step = totp_step(secret, code, 0)
    if step is None:
        return _enrolment(request, secret, "That code does not match the secret; check the app's clock.", 400)
    # The code just shown has been used: it must not pass the next sign-in.
    await stores.accounts.set_totp(
        who.account.username, secret, used_step=step,
        noted=noting(request, lambda username: ("account.totp_enabled", username, {})),
    )
    return RedirectResponse("/admin/account?totp=on", status_code=303)


def routes() -> list[Route]:
    return [
        Route("/account", account_page),
        Route("/account/totp", totp_enrolment, methods=["GET"]),
        Route("/account/totp", totp_enrol, methods=["POST"]),
    ]
