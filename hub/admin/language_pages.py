"""The language switch on every page: ``POST /admin/language`` with ``language`` (zh or en).

Signed in, the choice is stored with the account (and the session's CSRF token is needed, as for
any change); signed out, it is kept in the ``hub-language`` cookie, which the sign-in page reads
before the browser's ``Accept-Language``. Either way the visitor goes back to the page they were on.
"""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hub.admin import i18n
from hub.admin.access import forbidden, same_origin
from hub.admin.console import console
from hub.admin.i18n import N_
from hub.admin.sessions import FULL
from hub.admin.signin_pages import safe_next

EXPIRED = N_("the form has expired or did not come from the console; reload the page")
ONE_YEAR = 365 * 24 * 3600


async def switch_language(request: Request) -> Response:
    form = await request.form()
    language = i18n.chosen(str(form.get("language") or ""))
    if not same_origin(request):
        return forbidden(request, EXPIRED)
    if language is None:
        return forbidden(request, N_("the console speaks zh (中文) or en (English)"))
    who = await console(request).visitor(request)
    if who is not None and who.session.stage == FULL:
        sent = str(form.get("csrf") or "")
        if not hmac.compare_digest(sent.encode(), who.csrf_token.encode()):
            return forbidden(request, EXPIRED)
        await console(request).stores.accounts.set_language(who.account.username, language)
    response = RedirectResponse(safe_next(str(form.get("next") or "")), status_code=303)
    response.set_cookie(
        i18n.LANGUAGE_COOKIE, language, max_age=ONE_YEAR, path="/admin", secure=True, httponly=True,
        samesite="strict",
    )
    return response


def routes() -> list[Route]:
    return [Route("/language", switch_language, methods=["POST"])]
