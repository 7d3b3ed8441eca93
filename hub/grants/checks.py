"""What a grant request must say before anyone looks at it: scopes from the catalogue (one
owning department), purposes in lower_snake, a legal basis, a duration of 1 to 1095 days."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from hub.grants.model import GrantError, Sharing

PURPOSE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
MAX_DAYS = 1095  # three years: grants are recertified, never open-ended
MAX_TEXT = 2000

Catalogue = Mapping[str, tuple[str, Sharing]]  # scope -> (owning department, sharing)


# The ids the grant service makes (``hub.store.grants.new_grant_id``, ``GrantService.request``).
GRANT_ID = re.compile(r"^g-[0-9a-f]{16}$")
REQUEST_ID = re.compile(r"^r-[0-9a-f]{16}$")


def checked_id(value: str, pattern: re.Pattern[str], what: str) -> str:
    if not pattern.match(value):
        raise GrantError(f"{value[:40]!r} is not a {what} id")
    return value


def checked_scopes(catalogue: Catalogue, scopes: Iterable[str]) -> tuple[frozenset[str], str, Sharing]:
    """The scopes, their one owning department, and "conditional" if any of them is."""
    wanted = frozenset(scopes)
    if not wanted:
        raise GrantError("name at least one scope of the catalogue")
    unknown = sorted(wanted - set(catalogue))
    if unknown:
        raise GrantError(f"not in the scope catalogue: {', '.join(unknown)}")
    owners = sorted({catalogue[scope][0] for scope in wanted})
    if len(owners) > 1:
        raise GrantError(
            f"one owning department per request; these scopes belong to {', '.join(owners)}: request each apart"
        )
    conditional = any(catalogue[scope][1] == "conditional" for scope in wanted)
    return wanted, owners[0], "conditional" if conditional else "unconditional"


def checked_purposes(purposes: Iterable[str]) -> frozenset[str]:
    named = frozenset(purposes)
    if not named:
        raise GrantError("name at least one purpose (e.g. licensing): a grant is purpose-bound")
    bad = sorted(p for p in named if len(p) > 64 or not PURPOSE.match(p))
    if bad:
        raise GrantError(f"a purpose is lower_snake_case, at most 64 characters: {', '.join(map(repr, bad))}")
    return named


def checked_text(value: str | None, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise GrantError(f"{what} is required")
    if len(text) > MAX_TEXT:
        raise GrantError(f"{what} is at most {MAX_TEXT} characters")
    return text


def checked_days(days: int, what: str = "duration") -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise GrantError(f"{what} is 1 to {MAX_DAYS} days")
    return days


MAX_QUOTA = 10_000_000  # distinct subjects a day: past the city's whole population register


def checked_quota(quota: int | None) -> int | None:
    """A disclosure quota: a whole number of subjects a day, 1 to ``MAX_QUOTA``; None lifts it."""
    if quota is None:
        return None
    if isinstance(quota, bool) or not isinstance(quota, int) or not 1 <= quota <= MAX_QUOTA:
        raise GrantError(f"a quota is a whole number of subjects a day, 1 to {MAX_QUOTA} (or none)")
    return quota
