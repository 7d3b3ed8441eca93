"""``verify``: recompute the chain, check every MAC, the head and the seals; name each tampering.

Kinds of finding, each at a seq:

``edited``     the row's content no longer hashes to its (authentic) hash
``inserted``   a row the hub did not write: its hash, however well recomputed, has no valid MAC
``deleted``    a seq is missing, or a row's predecessor is nowhere in the log
``reordered``  an authentic row out of its place: its predecessor is in the log, elsewhere, or it
               stands at seq 0 or below, before the log's first record
``truncated``  records the head or a seal vouches for are gone from the end of the log
``index``      the subject index disagrees with the record (who-accessed would mislead): on
               PostgreSQL the record's ``subject_keys``; on SQLite its ``audit_subjects`` rows, which
               every record up to ``audit_index.seq`` must have and none may have a stray one of
``head``       the head row is not one the hub wrote
``seal``       a seal whose signature, key or claims do not hold, or that disagrees with the log
"""

from __future__ import annotations

import contextlib
from array import array
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Row, String, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.audit.chain import GENESIS, AuditKeys, link
from hub.audit.records import canonical_stored, references, subject_key
from hub.audit.seals import Seal, check_seal, seals, trusted_keys
from hub.audit.store import HEAD_ID, AuditStore
from hub.audit.tables import AuditHeadRow, AuditIndexRow, AuditRecordRow, AuditSubjectRow

RECORD_FIELDS = (
    "request_id", "time", "client_id", "department", "end_user", "purpose",
    "case_number", "operation_name", "operation_hash", "subjects",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Finding:
    seq: int
    kind: str
    detail: str


@dataclass(slots=True)
class Report:
    records: int = 0
    last_seq: int = 0
    seals: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.findings

    def add(self, seq: int, kind: str, detail: str) -> None:
        self.findings.append(Finding(seq, kind, detail))

    def kinds(self) -> set[tuple[int, str]]:
        return {(f.seq, f.kind) for f in self.findings}


KEYS_PER_READ = 500  # subject keys per query of an incremental check's index read

# A gateway's request (hub/audit/records.py ``Disclosure.as_dict``): hashed with these too.
GATEWAY_FIELDS = ("gateway", "origin_client", "origin_proven")


def recompute(row: Any) -> str:
    """The hash of a stored record, recomputed in the layout it was chained in."""
    fields = {name: getattr(row, name) for name in RECORD_FIELDS}
    if getattr(row, "gateway", None) is not None:  # a gateway's request: its declaration is chained too
        fields.update({name: getattr(row, name) for name in GATEWAY_FIELDS})
    return link(row.prev_hash, canonical_stored(fields, row.layout))


async def verify(store: AuditStore, *, since_seal: int | None = None) -> Report:
    """Check the log while the hub goes on appending to it: the whole log, or (``since_seal``) the
    records from a sealed seq on, trusting what an earlier full check found up to that seal.

    What vouches for records (head, seals) is read before the records, and the subject index
    after them, so an append landing mid-check is never mistaken for a cut tail or a stray index
    row; on PostgreSQL the whole check also reads one snapshot (repeatable read). An incremental
    check starts only from a seal whose signature holds and whose record is the one it sealed;
    otherwise it reports that seal and checks nothing else (``ValueError`` if there is no seal at
    ``since_seal``). Records are read ``WINDOW`` at a time by seq (the primary key), so a check
    holds one window in memory however long the log, and a check from a seal reads only what
    follows it.
    """
    report = Report()
    async with store.engine.connect() as conn:
        if not store.sqlite:
            await conn.execution_options(isolation_level="REPEATABLE READ")
        head = await _head(conn)
        sealed, keys = await seals(conn), await trusted_keys(conn, store.keys.sealer)
        start = Start(0, GENESIS)
        if since_seal is not None:
            anchored = await _anchor(conn, sealed, keys[0], store.keys, since_seal, report)
            if anchored is None:
                return report
            start, sealed = anchored, [seal for seal in sealed if seal.seq >= since_seal]
        walk = Walk(store, report, start, {seal.seq for seal in sealed})
        await walk.run(conn, whole=since_seal is None)
        if _initial(head) and report.records:  # the first records landed since: check the head they made
            head, vouching = await _head(conn), False
        else:
            vouching = True
    _check_head(head, store.keys, report, vouching=vouching)
    _check_seals(sealed, keys, walk.sealed_hashes, report)
    report.findings.sort(key=lambda f: (f.seq, f.kind))
    return report


@dataclass(frozen=True, slots=True)
class Start:
    """Where a check begins: after ``seq`` (0: the genesis), whose hash is ``hash``."""

    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class Stored:
    """A record as read for checking (``WINDOW_COLUMNS``), its subjects parsed."""

    seq: int
    time: str
    request_id: str
    client_id: str
    department: str
    end_user: str | None
    purpose: str
    case_number: str | None
    operation_name: str | None
    operation_hash: str
    subjects: Any
    layout: int
    gateway: str | None
    origin_client: str | None
    origin_proven: bool | None
    prev_hash: str
    hash: str
    mac: str | None
    subject_keys: list[int] | None


WINDOW = 20_000  # records read and checked at a time
# The subjects as stored text, parsed here with orjson rather than by the column type's decoder.
WINDOW_COLUMNS = [type_coerce(AuditRecordRow.subjects, String) if name == "subjects" else getattr(AuditRecordRow, name)
                  for name in Stored.__slots__]
KEYS_KEPT = 200_000  # references whose index key a check remembers (the same subjects recur)


class Walk:
    """One pass over the records by seq: chain, MACs, content and index, a window at a time."""

    def __init__(self, store: AuditStore, report: Report, start: Start, sealed: set[int]) -> None:
        self.store, self.keys, self.report, self.start = store, store.keys, report, start
        self.sealed = sealed
        self.sealed_hashes: dict[int, str] = {}
        self.misplaced: list[Stored] = []  # authentic rows whose predecessor is not the row before
        self.counts = array("q")  # SQLite, a full check: each record's index row count, by seq - start
        self._keys: dict[str, int] = {}

    async def run(self, conn: AsyncConnection, *, whole: bool) -> None:
        report, start = self.report, self.start
        expected, prev_hash, prev_forged, after = start.seq + 1, start.hash, False, start.seq
        while True:
            query = select(*WINDOW_COLUMNS).where(AuditRecordRow.seq > after).order_by(AuditRecordRow.seq)
            window = [_stored(row) for row in await conn.execute(query.limit(WINDOW))]
            if not window:
                break
            for row in window:
                gap = row.seq > expected
                for missing in range(expected, row.seq):
                    report.add(missing, "deleted", "no record with this seq")
                forged = _check_row(row, self.keys.row_mac_ok(row.hash, row.mac), report)
                if not (gap or forged or prev_forged) and row.prev_hash != prev_hash:
                    self.misplaced.append(row)
                if row.seq in self.sealed:
                    self.sealed_hashes[row.seq] = row.hash
                expected, prev_hash, prev_forged = row.seq + 1, row.hash, forged
                report.records += 1
            after = window[-1].seq
            await self._check_index(conn, window, whole=whole)
        report.last_seq = expected - 1
        if self.misplaced:
            await self._place(conn)
        if whole:
            await self._before_first(conn)
        if whole and self.store.sqlite:
            await self._stray_rows(conn)

    async def _before_first(self, conn: AsyncConnection) -> None:
        """Rows at seq 0 or below: the log begins at 1, so none of them is a record in its place, and
        who-accessed and the searches (which read by subject, client or purpose, not by seq) would
        list them. Each is reported as inserted (its MAC does not hold), edited, or reordered (a copy
        of a record the hub wrote), a window at a time."""
        before = 1
        while True:
            query = (select(*WINDOW_COLUMNS).where(AuditRecordRow.seq < before)
                     .order_by(AuditRecordRow.seq.desc()).limit(WINDOW))
            window = [_stored(row) for row in await conn.execute(query)]
            if not window:
                return
            for row in window:
                if not _check_row(row, self.keys.row_mac_ok(row.hash, row.mac), self.report):
                    self.report.add(row.seq, "reordered", "the log begins at seq 1: this record stands before it")
            before = window[-1].seq

    def _expected(self, row: Stored) -> set[int]:
        found: set[int] = set()
        try:
            named = references(row.subjects, row.layout)
        except (KeyError, TypeError):  # subjects edited into something else: reported as edited
            return found
        for reference in named:
            key = self._keys.get(reference)
            if key is None:
                if len(self._keys) >= KEYS_KEPT:
                    self._keys.clear()
                key = self._keys[reference] = subject_key(reference)
            found.add(key)
        return found

    async def _check_index(self, conn: AsyncConnection, window: list[Stored], *, whole: bool) -> None:
        report = self.report
        if not self.store.sqlite:
            for row in window:
                if sorted(row.subject_keys or ()) != sorted(self._expected(row)):  # each key once, none missing
                    report.add(row.seq, "index", "the record's subject keys do not match its subjects")
            return
        expected = {row.seq: self._expected(row) for row in window}
        # Read after the records: every record up to the mark then has all its rows in the read that follows.
        mark = (await conn.execute(select(AuditIndexRow.seq).where(AuditIndexRow.id == 1))).scalar_one_or_none()
        if mark is None:
            if not any(f.kind == "index" and f.seq == 0 for f in report.findings):
                report.add(0, "index", "the subject index's mark (audit_index) is missing")
            mark = 0
        indexed = await _index_rows(conn, expected, window[0].seq, window[-1].seq)
        for seq, keys in expected.items():
            found = indexed.get(seq, set())
            if (found or seq <= mark) and found != keys:  # past the mark, a record's rows are all there or none
                report.add(seq, "index", "the subject index does not match the record's subjects")
            if whole:  # -1: no record at that seq
                self.counts.extend([-1] * (seq - self.start.seq - len(self.counts) - 1))
                self.counts.append(len(keys))

    async def _stray_rows(self, conn: AsyncConnection) -> None:
        """Rows no record's keys account for: more rows for a seq than its record names, or rows for
        a seq no record holds (one pass over the index, counted by seq in the database)."""
        first, last = self.start.seq, self.report.last_seq
        query = (
            select(AuditSubjectRow.seq, func.count()).where(AuditSubjectRow.seq <= last).group_by(AuditSubjectRow.seq)
        )
        counts, reported = self.counts, {f.seq for f in self.report.findings if f.kind == "index"}
        for seq, count in await conn.execute(query):
            at = seq - first - 1
            wanted = counts[at] if 0 <= at < len(counts) else -1
            if count != wanted and seq not in reported:  # a record's missing rows were reported by its window
                self.report.add(seq, "index", "subject index rows for a record that does not exist" if wanted < 0
                                else "the subject index does not match the record's subjects")

    async def _place(self, conn: AsyncConnection) -> None:
        """Where the chain puts each misplaced row: its hashes walked over every authentic row."""
        query = (
            select(AuditRecordRow.seq, AuditRecordRow.hash, AuditRecordRow.prev_hash, AuditRecordRow.mac)
            .where(AuditRecordRow.seq > self.start.seq, AuditRecordRow.seq <= self.report.last_seq)
        )
        rows = [row for row in await conn.execute(query) if self.keys.row_mac_ok(row.hash, row.mac)]
        positions = chain_positions(rows, self.start)
        for row in self.misplaced:
            _misplaced(row, positions, self.report)


def _stored(row: Row[Any]) -> Stored:
    values = list(row)
    subjects = values[10]
    if isinstance(subjects, str | bytes):
        # Unreadable subjects stay text: they hash to something else, so the record is reported as edited.
        with contextlib.suppress(orjson.JSONDecodeError):
            values[10] = orjson.loads(subjects)
    return Stored(*values)


async def _anchor(
    conn: AsyncConnection, sealed: list[Seal], trusted: dict[str, dict[str, Any]], keys: AuditKeys,
    seq: int, report: Report,
) -> Start | None:
    """The sealed record an incremental check starts after, or None (reported) when it does not hold."""
    at = [seal for seal in sealed if seal.seq == seq]
    if not at:
        raise ValueError(f"there is no seal at seq {seq}: name a sealed seq (hub audit status shows the last)")
    problem = check_seal(at[-1], trusted)
    row = (await conn.execute(select(AuditRecordRow).where(AuditRecordRow.seq == seq))).first()
    if problem is None and (row is None or row.hash != at[-1].hash or not keys.row_mac_ok(row.hash, row.mac)):
        problem = "the record at the sealed seq is not the one that was sealed"
    if problem is not None:
        report.add(seq, "seal", problem)
        return None
    return Start(seq, at[-1].hash)


def chain_positions(rows: Sequence[Any], start: Start = Start(0, GENESIS)) -> dict[str, int]:
    """Where each (authentic) row stands in the chain its hashes spell, whatever its stored seq.

    Walks from the start (the genesis, or a sealed record); a row whose predecessor is missing
    starts a segment at its own seq.
    """
    known = {row.hash for row in rows}
    following = {row.prev_hash: row for row in rows}
    starts = [(start.seq, start.hash)] + [(r.seq - 1, r.prev_hash) for r in rows if r.prev_hash not in known]
    positions: dict[str, int] = {}
    for position, prev in starts:
        while (row := following.get(prev)) is not None and row.hash not in positions:
            position += 1
            positions[row.hash] = position
            prev = row.hash
    return positions


def _check_row(row: Stored, authentic: bool, report: Report) -> bool:
    """Content against hash, hash (``authentic``: its MAC holds) against MAC; True when the row is not
    the hub's own."""
    if not authentic:
        report.add(row.seq, "inserted", "a row the hub did not write: its MAC does not verify")
    elif recompute(row) != row.hash:
        report.add(row.seq, "edited", "the record's content does not hash to its recorded hash")
    return not authentic


def _misplaced(row: Stored, positions: dict[str, int], report: Report) -> None:
    """An authentic row whose predecessor is not the row before it: moved, or the predecessor gone.

    When the row stands where its chain puts it, the row before it is the one out of place and is
    reported on its own.
    """
    position = positions.get(row.hash, row.seq)
    if position != row.seq:
        report.add(row.seq, "reordered", f"the chain puts this record at seq {position}")
    elif row.prev_hash not in positions and row.prev_hash != GENESIS:
        report.add(row.seq, "deleted", "the record that preceded this one in the chain is gone")


async def _index_rows(
    conn: AsyncConnection, expected: dict[int, set[int]], first: int, last: int
) -> dict[int, set[int]]:
    """``audit_subjects`` rows of the records ``first..last`` for the keys they name, each key read by
    its (key, seq) B-tree range: the index read costs the window's subjects, not the table."""
    indexed: dict[int, set[int]] = defaultdict(set)
    keys = sorted(set().union(*expected.values()))
    for at in range(0, len(keys), KEYS_PER_READ):
        query = select(AuditSubjectRow.seq, AuditSubjectRow.subject_key).where(
            AuditSubjectRow.subject_key.in_(keys[at : at + KEYS_PER_READ]),
            AuditSubjectRow.seq >= first, AuditSubjectRow.seq <= last,
        )
        for seq, key in await conn.execute(query):
            indexed[seq].add(key)
    return indexed


async def _head(conn: AsyncConnection) -> Row[Any] | None:
    return (await conn.execute(select(AuditHeadRow).where(AuditHeadRow.id == HEAD_ID))).first()


def _initial(head: Row[Any] | None) -> bool:
    """The head as the migration made it, before any append (it has no MAC: no key was at hand)."""
    return head is not None and head.seq == 0 and head.hash == GENESIS and head.mac is None


def _check_head(head: Row[Any] | None, keys: AuditKeys, report: Report, *, vouching: bool) -> None:
    """The head read before the records vouches for them (``vouching``); one read after may be ahead."""
    if head is None:
        report.add(0, "head", "the head row is missing")
    elif _initial(head) and report.last_seq == 0:
        return  # a log nothing was ever appended to
    elif not keys.head_mac_ok(head.seq, head.hash, head.mac):
        report.add(head.seq, "head", "the head row is not one the hub wrote")
    elif vouching and head.seq > report.last_seq:
        for seq in range(report.last_seq + 1, head.seq + 1):
            detail = f"the head vouches for seq {head.seq}; the log ends at {report.last_seq}"
            report.add(seq, "truncated", detail)


def _check_seals(
    sealed: list[Seal],
    keys: tuple[dict[str, dict[str, Any]], list[str]],
    hashes: dict[int, str],
    report: Report,
) -> None:
    trusted, forged = keys
    for kid in forged:
        report.add(0, "seal", f"seal key {kid!r} was not made by this hub")
    for seal in sealed:
        report.seals += 1
        problem = check_seal(seal, trusted)
        if problem is not None:
            report.add(seal.seq, "seal", problem)
        elif seal.seq > report.last_seq:
            report.add(seal.seq, "truncated", f"sealed at seq {seal.seq}; the log ends at {report.last_seq}")
        elif hashes.get(seal.seq) not in (None, seal.hash):
            report.add(seal.seq, "seal", "the record at the sealed seq is not the one that was sealed")
