"""An auditor's search criteria, checked before any query runs.

Bad input is refused with a ``ValueError`` that names the criterion, never searched: an empty or
over-long client id, purpose or case number (longer than its column: it could match nothing), a
limit outside 1..500, a seq cursor below 1 or past the seq column's 64 bits, a time that is not
ISO 8601 or has no UTC offset (the log's times are UTC instants; "09:00" alone could be Beijing or
UTC, a difference of eight hours), and a window that ends before it starts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

MAX_LIMIT = 500
MAX_SEQ = 2**63 - 1  # the seq column's range (BIGINT; SQLite's INTEGER): a larger one overflows as a parameter
# The audit_records columns these criteria are compared with (hub/audit/tables.py).
COLUMN_LENGTHS = {"client_id": 64, "purpose": 200, "case_number": 128}


@dataclass(frozen=True, slots=True)
class Criteria:
    client_id: str | None
    purpose: str | None
    case_number: str | None
    since: str | None  # as stored: UTC, microseconds, "Z"
    until: str | None
    limit: int
    before_seq: int | None


def criteria(
    *,
    client_id: str | None,
    purpose: str | None,
    case_number: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    before_seq: int | None,
) -> Criteria:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {limit!r}")
    if before_seq is not None and (
        isinstance(before_seq, bool) or not isinstance(before_seq, int) or not 1 <= before_seq <= MAX_SEQ
    ):
        raise ValueError(f"before_seq must be a record's seq (1 or more), not {before_seq!r}")
    start, end = instant("since", since), instant("until", until)
    if start is not None and end is not None and start >= end:
        raise ValueError(f"since ({since}) must be before until ({until})")
    return Criteria(
        client_id=text("client_id", client_id),
        purpose=text("purpose", purpose),
        case_number=text("case_number", case_number),
        since=start,
        until=end,
        limit=limit,
        before_seq=before_seq,
    )


def text(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, not {value!r}")
    if len(value) > COLUMN_LENGTHS[name]:
        raise ValueError(
            f"{name} is longer than any recorded one ({COLUMN_LENGTHS[name]} characters at most)"
        )
    return value


def instant(name: str, value: str | None) -> str | None:
    """``2026-11-26T09:00:00+08:00`` -> ``2026-11-26T01:00:00.000000Z``, the log's own form."""
    if value is None:
        return None
    if not isinstance(value, str):  # one error type for every bad criterion, whatever its type
        raise ValueError(f"{name} must be an ISO 8601 time, not {value!r}")  # noqa: TRY004
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"{name} must be an ISO 8601 time such as 2026-11-26T09:00:00+08:00, not {value!r}"
        ) from None
    if parsed.tzinfo is None:
        raise ValueError(f"{name} ({value}) needs a time with its UTC offset, e.g. 2026-11-26T09:00:00+08:00")
    # isoformat pads the year to four digits, so the stored strings compare in time order.
    return parsed.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
