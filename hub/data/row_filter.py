"""Row filters by jurisdiction: "records whose division code starts with the caller's prefix".

A row filter is ``Condition(<division-code field>, "prefix", <0-6 digits>)``. ``admitted`` is the one
admission step every record the data path returns passes through, once: ``Sources.select`` pushes
the filter into the source query when the connector can take it and passes each page it reads
through ``admitted`` either way, so a source that ignores a pushed filter cannot widen what a caller
sees; ``Records`` passes what the loaders fetch by key (they cannot push) through it before a
resolver gets it.

The after-fetch path has a cost: a caller whose region holds few of the source's records makes the
hub read many records to fill one page. ``ScanBudget`` bounds that: each further source call asks
for twice as many records as the last (up to ``max_scan``), and after ``max_calls`` calls the page
is returned short, marked ``truncated``. Its continuation is still exact (the next page starts
after the last *returned* record, so nothing is skipped), but the hub reads the rejected records
again, and a truncated page with no record cannot move the cursor at all: raise the budget for a
source that is that sparse, or give its binding a way to take the filter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.base import Condition, Record, UnsupportedQuery

# GB/T 2260 codes are 6 digits; a prefix is a province (2), a prefecture (4), a county (6) or the
# whole city (""). Anything else never came from the registry: refuse it before any source call.
_PREFIX = re.compile(r"[0-9]{0,6}")


@dataclass(frozen=True, slots=True)
class ScanBudget:
    """How far ``Sources.select`` reads to fill a page it filters after the fetch."""

    max_calls: int = 8
    max_scan: int = 1000

    def __post_init__(self) -> None:
        if self.max_calls < 1 or self.max_scan < 1:
            raise ValueError("a scan budget needs at least one call of at least one record")


class Selected(list[Record]):
    """A page of records; ``truncated`` when the scan budget ran out before the page was full.

    A truncated page is short although more matching records may follow: a connection built on it
    must still offer a next page, continuing after its last record.
    """

    truncated: bool

    def __init__(self, records: Iterable[Record] = (), truncated: bool = False) -> None:
        super().__init__(records)
        self.truncated = truncated


def admits(record: Mapping[str, Any], row_filter: Condition) -> bool:
    """Whether the record's division code starts with the filter's prefix; no code, no admission."""
    code = record.get(row_filter.field)
    return isinstance(code, str) and code.startswith(row_filter.value)


def admitted(records: list[Record], row_filter: Condition | None) -> list[Record]:
    """The records the row filter admits, in order (no filter: ``records`` itself): the one admission
    step of the data path (docs/architecture.md, "The access model")."""
    if row_filter is None:
        return records
    return [record for record in records if admits(record, row_filter)]


def check_row_filter(department: str, row_filter: Condition) -> None:
    """Refuse a row filter that is not a division-code prefix (wildcards, quotes, letters, length)."""
    value = row_filter.value
    if row_filter.op != "prefix" or not isinstance(value, str) or not _PREFIX.fullmatch(value):
        raise UnsupportedQuery(department, "a row filter must be a prefix of at most 6 digits")


def narrow(where: Sequence[Condition], row_filter: Condition) -> list[Condition] | None:
    """``where`` with the row filter added, merged with a prefix on the same field; None if disjoint.

    A source takes one prefix per field (a REST parameter, a GraphQL argument), and a caller's own
    region within its jurisdiction is the common case: the longer of two nested prefixes is both.
    """
    narrowed: list[Condition] = []
    merged = False
    for condition in where:
        if condition.field != row_filter.field or condition.op != "prefix":
            narrowed.append(condition)
            continue
        asked = str(condition.value)
        if asked.startswith(row_filter.value):
            narrowed.append(condition)
        elif row_filter.value.startswith(asked):
            narrowed.append(row_filter)
        else:
            return None  # two regions that do not overlap: no record is in both
        merged = True
    return narrowed if merged else [*narrowed, row_filter]
