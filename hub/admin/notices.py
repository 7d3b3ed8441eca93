"""What the console says once a change is made, in the page's language.

A form that changes something answers with a redirect to the page it came from (so reloading
does not post it again), naming the notice by its code and its values in the query:
``/admin/grants?done=request.approved&request=R-1&grant=G-2&until=1767225600``. The page shows
the notice's text from the catalogue with the values put in (times in China Standard Time). A
code the console does not know shows nothing, and a value is shown as text, never as markup: a
link can make the console say only what it says after a change.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from starlette.requests import Request

from hub.admin.i18n import N_, Moment, Said

NOTICES: dict[str, str] = {
    "grant.granted": N_("granted at once as %(grant)s"),
    "request.sent": N_("request %(request)s sent to %(owner)s, to answer by %(deadline)s"),
    "request.approved": N_("request %(request)s approved: grant %(grant)s until %(until)s"),
    "request.refused": N_("request %(request)s refused"),
    "request.withdrawn": N_("request %(request)s withdrawn"),
    "grant.revoked": N_("grant %(grant)s revoked"),
    "grant.recertified": N_("grant %(grant)s recertified until %(until)s"),
    "grant.purpose_removed": N_("purpose %(purpose)s removed from grant %(grant)s"),
    "grant.quota": N_("grant %(grant)s: %(quota)s subjects a day per scope"),
    "grant.no_quota": N_("grant %(grant)s: no quota"),
    "department.registered": N_("department %(department)s registered"),
    "department.blocked": N_("department %(department)s blocked"),
    "department.unblocked": N_("department %(department)s unblocked"),
    "client registered": N_("client registered"),
    "client blocked": N_("client blocked"),
    "client unblocked": N_("client unblocked"),
    "key added": N_("key added"),
    "key removed": N_("key removed"),
    "limits set": N_("limits set"),
    "account.created": N_("account %(username)s created"),
    "account.disabled": N_("account %(username)s disabled"),
    "account.enabled": N_("account %(username)s enabled"),
    "password": N_("your password is changed and your other sessions have ended"),
    "totp": N_("TOTP is on"),
}
TIMES = frozenset({"until", "deadline"})  # seconds since the epoch in the query
MAX_VALUE = 100
LAST_MOMENT = 253_402_271_999  # 9999-12-31 23:59:59 China Standard Time: the last time a page can show


def done(path: str, code: str, **values: str | int) -> str:
    """``path`` with the notice ``code`` and its values in the query."""
    assert code in NOTICES, code
    return f"{path}?{urlencode({'done': code, **values})}"


def notice(request: Request) -> Said | None:
    """The notice this page's query names, with its values; None when it names none the console
    knows, or lacks a value the notice needs, or a time is not one."""
    code = request.query_params.get("done", "")
    text = NOTICES.get(code)
    if text is None:
        return None
    values: dict[str, object] = {}
    for name in _names(text):
        value = request.query_params.get(name, "")
        if not value or len(value) > MAX_VALUE:
            return None
        if name in TIMES:
            if not value.isascii() or not value.isdigit() or int(value) > LAST_MOMENT:
                return None
            values[name] = Moment(int(value))
        else:
            values[name] = value
    return Said.of(text, **values)


def _names(text: str) -> list[str]:
    return re.findall(r"%\((\w+)\)s", text)
