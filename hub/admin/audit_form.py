"""The audit pages' query parameters, read and checked before anything is searched.

A browser's ``datetime-local`` field sends a time without an offset ("2026-11-26T09:00"); the
service centre works in China Standard Time, so such a time is read as +08:00 (the pages say so),
and a time that carries its own offset keeps it. Everything else is handed to
``hub.audit.search``'s own checks, whose ``ValueError`` names the criterion; the pages show it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from hub.identifiers import InvalidIdentifier, validate_id_number
from hub.admin.i18n import N_

CST = dt.timezone(dt.timedelta(hours=8), "CST")
DEFAULT_LIMIT = 50
MAX_DIGITS = 18  # keeps a seq below 2**63, the BIGINT column's range
MAX_IDENTIFIER = 80  # 18 characters for a USCC or an ID number, 71 for a person's reference
FIELDS = ("client", "subject", "purpose", "case", "since", "until", "limit")
IN_URL = N_(
    "a person's ID number is looked up with the form, which sends it in the request body: "
    "it never goes in a URL, where browsers' histories and servers' logs would keep it"
)


@dataclass(frozen=True, slots=True)
class SearchForm:
    """What the auditor typed (``typed``, shown back in the form) and the search it asks for."""

    typed: Mapping[str, str]
    criteria: Mapping[str, Any]

    @property
    def limit(self) -> int:
        return int(self.criteria["limit"])

    def older(self, before_seq: int) -> dict[str, str]:
        """The next page's form fields: the same criteria, records before ``before_seq``."""
        kept = {name: value for name, value in self.typed.items() if value}
        return {**kept, "before": str(before_seq)}


async def asked(request: Request, identifiers: tuple[str, ...]) -> dict[str, str]:
    """The criteria of a GET's query string or a POSTed form (its CSRF token left out).

    Raises ``ValueError`` when a GET names a person's ID number in one of ``identifiers``.
    """
    if request.method != "POST":
        params = dict(request.query_params)
        if any(is_person_number(params.get(name, "")) for name in identifiers):
            raise ValueError(IN_URL)
        return params
    form = await request.form()
    return {name: value for name, value in form.items() if isinstance(value, str) and name != "csrf"}


def is_person_number(value: str) -> bool:
    """A valid ID number, even one that passes the USCC check too; links name an enterprise
    unambiguously as ``enterprise:<USCC>`` and a person as ``person:<keyed hash>``."""
    try:
        validate_id_number(value.strip().upper())
    except InvalidIdentifier:
        return False
    return True


def search_form(params: Mapping[str, str]) -> SearchForm:
    """The search the parameters ask for; raises ``ValueError`` with a message for the auditor."""
    typed = {name: params.get(name, "").strip() for name in FIELDS}
    criteria: dict[str, Any] = {
        "client_id": typed["client"] or None,
        "purpose": typed["purpose"] or None,
        "case_number": typed["case"] or None,
        "subject": identifier(typed["subject"]),
        "since": local_time("since", typed["since"]),
        "until": local_time("until", typed["until"]),
        "limit": whole_number("limit", typed["limit"]) if typed["limit"] else DEFAULT_LIMIT,
        "before_seq": whole_number("before", params.get("before", "").strip()) if params.get("before") else None,
    }
    return SearchForm(typed, criteria)


def identifier(value: str) -> str | None:
    if not value:
        return None
    if len(value) > MAX_IDENTIFIER:
        raise ValueError(N_("the subject must be a USCC or an ID number (18 characters)"))
    return value.upper()


def local_time(name: str, value: str) -> str | None:
    """``2026-11-26T09:00`` -> ``2026-11-26T09:00:00+08:00``; a time with an offset keeps it."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{name} must be a date and time such as 2026-11-26T09:00 (China Standard Time), not {value[:40]!r}"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=CST)
    return parsed.isoformat()


def whole_number(name: str, value: str) -> int:
    if not value.isascii() or not value.isdigit() or len(value) > MAX_DIGITS:
        raise ValueError(f"{name} must be a whole number, not {value[:40]!r}")
    return int(value)


def shown_time(stored: str | None) -> str:
    """A log time (UTC, ``Z``) as the service centre reads it: ``2026-11-26 09:00:00 CST``."""
    if not stored:
        return ""
    instant = dt.datetime.fromisoformat(stored).astimezone(CST)
    return instant.strftime("%Y-%m-%d %H:%M:%S CST")
