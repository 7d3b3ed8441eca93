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

import asyncio
import bisect
import contextlib
import hashlib
import hmac
from array import array
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.audit.chain import GENESIS, AuditKeys, link
from hub.audit.records import canonical_stored, references, subject_key
from hub.audit.seals import Seal, check_seal, seals, trusted_keys
from hub.audit.store import HEAD_ID, AuditStore
from hub.audit.tables import AuditHeadRow, AuditIndexRow, AuditRecordRow


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
INSERTED = "a row the hub did not write: its MAC does not verify"
EDITED = "the record's content does not hash to its recorded hash"


async def verify(store: AuditStore, *, since_seal: int | None = None) -> Report:
    """Check the log while the hub goes on appending to it: the whole log, or (``since_seal``) the
    records from a sealed seq on, trusting what an earlier full check found up to that seal.

    What vouches for records (head, seals) is read before the records, and the subject index
    after them, so an append landing mid-check is never mistaken for a cut tail or a stray index
    row; on PostgreSQL the whole check also reads one snapshot (repeatable read). An incremental
    check starts only from a seal whose signature holds and whose record is the one it sealed;
    otherwise it reports that seal and checks nothing else (``ValueError`` if there is no seal at
    ``since_seal``). Records are read ``WINDOW`` at a time by seq (the primary key), the next
    window while one is checked, so a check holds two windows in memory however long the log,
    and a check from a seal reads only what follows it.
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


class Link(NamedTuple):
    """A record's place in the chain as read: what ``_place`` needs of a misplaced row."""

    seq: int
    prev_hash: str
    hash: str


WINDOW = 20_000  # records read and checked at a time
# A record as read for checking, by the driver itself (tuples, no ORM rows or column decoders): the
# columns in this order, the subjects as their stored text (parsed here, once, with orjson).
COLUMNS = (
    "seq", "time", "request_id", "client_id", "department", "end_user", "purpose", "case_number",
    "operation_name", "operation_hash", "subjects", "layout", "gateway", "origin_client", "origin_proven",
    "prev_hash", "hash", "mac", "subject_keys",
)  # fmt: skip
KEYS_KEPT = 200_000  # references whose index key a check remembers (the same subjects recur)
GAP_FINDINGS = 1000  # missing seqs reported one by one; a longer gap (a seq edited far ahead) as one finding


def _window_sql(sqlite: bool, *, before: bool) -> str:
    """The query of a window: the records after a seq (ascending), or ``before`` one (descending)."""
    columns = ", ".join("subjects::text" if name == "subjects" and not sqlite else name for name in COLUMNS)
    after, limit = ("?", "?") if sqlite else ("$1", "$2")
    where = f"seq < {after} ORDER BY seq DESC" if before else f"seq > {after} ORDER BY seq"
    return f"SELECT {columns} FROM audit_records WHERE {where} LIMIT {limit}"  # no input in it: fixed text


async def _window(conn: AsyncConnection, sqlite: bool, bound: int, *, before: bool = False) -> Sequence[Any]:
    """``WINDOW`` records after (or ``before``) ``bound``, read in the check's own transaction by the
    driver: aiosqlite's tuples or asyncpg's records, each column as the database returns it."""
    driver = await _driver(conn)
    sql = _window_sql(sqlite, before=before)
    if sqlite:
        return list(await driver.execute_fetchall(sql, (bound, WINDOW)))
    return list(await driver.fetch(sql, bound, WINDOW))


async def _driver(conn: AsyncConnection) -> Any:
    """The connection's own driver connection (aiosqlite's or asyncpg's), in the check's transaction."""
    return (await conn.get_raw_connection()).driver_connection  # an open connection always has one


class Checker:
    """What a record alone shows: whether its MAC holds, whether its content hashes to its hash, and
    the subject keys its subjects name; worked out from a row as ``_window`` reads it."""

    def __init__(self, keys: AuditKeys) -> None:
        # HMAC-SHA256(chain key, "row:" + hash), as ``AuditKeys.row_mac`` makes it: the key's pads
        # and the prefix worked out once, copied per row.
        self._row_mac = hmac.new(keys.chain, b"row:", hashlib.sha256)
        self._keys: dict[str, int] = {}

    def authentic(self, record_hash: Any, mac: Any) -> bool:
        """The row's MAC holds for its hash: the hub wrote this hash."""
        keyed = self._row_mac.copy()
        try:
            keyed.update(record_hash.encode())
            return hmac.compare_digest(keyed.hexdigest(), mac)
        except (AttributeError, TypeError):  # no hash or MAC, or one that is not ASCII text
            return False

    def content(self, row: Sequence[Any]) -> tuple[Any, str | None]:
        """The row's subjects (parsed, or as stored when unreadable) and the hash its content
        recomputes to in the layout it was chained in (None: content no record could have)."""
        (_, time, request_id, client_id, department, end_user, purpose, case_number, operation_name,
         operation_hash, subjects, layout, gateway, origin_client, origin_proven, prev_hash, *_) = row  # fmt: skip
        try:
            subjects = orjson.loads(subjects)
        except orjson.JSONDecodeError:  # unreadable, or not text: kept as stored, it hashes to something else
            pass
        fields = {
            "request_id": request_id, "time": time, "client_id": client_id, "department": department,
            "end_user": end_user, "purpose": purpose, "case_number": case_number,
            "operation_name": operation_name, "operation_hash": operation_hash, "subjects": subjects,
        }  # fmt: skip
        if gateway is not None:  # a gateway's request: its declaration is chained too
            proven = origin_proven if origin_proven is None else bool(origin_proven)  # SQLite: 0 / 1
            fields.update(gateway=gateway, origin_client=origin_client, origin_proven=proven)
        try:
            return subjects, link(prev_hash, canonical_stored(fields, layout))
        except (TypeError, ValueError, AttributeError):  # a value no JSON holds, or a hash that is not ASCII text
            return subjects, None

    def expected(self, subjects: Any, layout: Any) -> set[int]:
        """The subject keys the record's subjects name (none when its subjects are unreadable)."""
        found: set[int] = set()
        try:
            named = references(subjects, layout)
        except (KeyError, TypeError):  # subjects edited into something else: reported as edited
            return found
        keys = self._keys
        for reference in named:
            if type(reference) is not str:  # a list, an object, a number: no reference the hub writes
                return set()
            key = keys.get(reference)
            if key is None:
                if len(keys) >= KEYS_KEPT:
                    keys.clear()
                key = keys[reference] = subject_key(reference)
            found.add(key)
        return found


def _keys_match(stored: Any, named: set[int]) -> bool:
    """A record's ``subject_keys`` (PostgreSQL) name each of its subjects' keys once, and no other."""
    try:
        return len(stored or ()) == len(named) and set(stored or ()) == named
    except TypeError:  # not a flat array of keys (an array of arrays)
        return False


class Walk:
    """One pass over the records by seq: chain, MACs, content and index, a window at a time."""

    def __init__(self, store: AuditStore, report: Report, start: Start, sealed: set[int]) -> None:
        self.store, self.keys, self.report, self.start = store, store.keys, report, start
        self.sealed = sealed
        self.sealed_hashes: dict[int, str] = {}
        self.misplaced: list[Link] = []  # authentic rows whose predecessor is not the row before
        # SQLite, a full check: each record's index row count, in runs of consecutive seqs (first seq,
        # counts): a seq edited far ahead starts a run of its own rather than a slot for every seq between.
        self.counts: list[tuple[int, array[int]]] = []
        self.checker = Checker(store.keys)

    async def run(self, conn: AsyncConnection, *, whole: bool) -> None:
        report, start, sqlite, checker = self.report, self.start, self.store.sqlite, self.checker
        findings, sealed, misplaced = report.findings, self.sealed, self.misplaced
        expected, prev_hash, prev_forged = start.seq + 1, start.hash, False
        # The next window is asked for before this one is checked: the database reads it meanwhile.
        reading = asyncio.ensure_future(_window(conn, sqlite, start.seq))
        try:
            while window := await reading:
                reading = asyncio.ensure_future(_window(conn, sqlite, window[-1][0]))
                await asyncio.sleep(0)  # the next window's query on its way
                keys: dict[int, set[int]] = {}
                for row in window:  # in COLUMNS' order: 0 seq, 11 layout, 15 prev_hash, 16 hash, 17 mac, 18 keys
                    seq, record_hash, mac, stored_keys = row[0], row[16], row[17], row[18]
                    gap = seq > expected
                    if seq - expected > GAP_FINDINGS:
                        findings.append(Finding(expected, "deleted", f"no records with seqs {expected} to {seq - 1}"))
                    else:
                        for missing in range(expected, seq):
                            findings.append(Finding(missing, "deleted", "no record with this seq"))
                    subjects, recomputed = checker.content(row)
                    forged = not checker.authentic(record_hash, mac)
                    if forged:
                        findings.append(Finding(seq, "inserted", INSERTED))
                    elif recomputed != record_hash:
                        findings.append(Finding(seq, "edited", EDITED))
                    if not (gap or forged or prev_forged) and row[15] != prev_hash:
                        misplaced.append(Link(seq, row[15], record_hash))
                    if seq in sealed:
                        self.sealed_hashes[seq] = record_hash
                    named = checker.expected(subjects, row[11])
                    if sqlite:
                        keys[seq] = named
                    elif not _keys_match(stored_keys, named):
                        findings.append(Finding(seq, "index", "the record's subject keys do not match its subjects"))
                    expected, prev_hash, prev_forged = seq + 1, record_hash, forged
                report.records += len(window)
                if sqlite:
                    await self._check_index(conn, keys, window[0][0], window[-1][0], whole=whole)
        finally:
            if not reading.done():
                reading.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reading
        report.last_seq = expected - 1
        if self.misplaced:
            await self._place(conn)
        if whole:
            await self._before_first(conn)
        if whole and sqlite:
            await self._stray_rows(conn)

    async def _before_first(self, conn: AsyncConnection) -> None:
        """Rows at seq 0 or below: the log begins at 1, so none of them is a record in its place, and
        who-accessed and the searches (which read by subject, client or purpose, not by seq) would
        list them. Each is reported as inserted (its MAC does not hold), edited, or reordered (a copy
        of a record the hub wrote), a window at a time."""
        before, checker, report = 1, self.checker, self.report
        while window := await _window(conn, self.store.sqlite, before, before=True):
            for row in window:
                seq = row[0]
                if not checker.authentic(row[16], row[17]):
                    report.add(seq, "inserted", INSERTED)
                elif checker.content(row)[1] != row[16]:
                    report.add(seq, "edited", EDITED)
                else:
                    report.add(seq, "reordered", "the log begins at seq 1: this record stands before it")
            before = window[-1][0]

    async def _check_index(
        self, conn: AsyncConnection, expected: dict[int, set[int]], first: int, last: int, *, whole: bool
    ) -> None:
        """SQLite: the window's ``audit_subjects`` rows against the keys its records name."""
        report = self.report
        # Read after the records: every record up to the mark then has all its rows in the read that follows.
        mark = (await conn.execute(select(AuditIndexRow.seq).where(AuditIndexRow.id == 1))).scalar_one_or_none()
        if mark is None:
            if not any(f.kind == "index" and f.seq == 0 for f in report.findings):
                report.add(0, "index", "the subject index's mark (audit_index) is missing")
            mark = 0
        indexed = await _index_rows(conn, expected, first, last)
        for seq, keys in expected.items():
            found = indexed.get(seq, set())
            if (found or seq <= mark) and found != keys:  # past the mark, a record's rows are all there or none
                report.add(seq, "index", "the subject index does not match the record's subjects")
            if whole:
                if not self.counts or seq != self.counts[-1][0] + len(self.counts[-1][1]):
                    self.counts.append((seq, array("q")))  # after a gap (or the first): a new run
                self.counts[-1][1].append(len(keys))

    async def _stray_rows(self, conn: AsyncConnection) -> None:
        """Rows no record's keys account for: more rows for a seq than its record names, or rows for
        a seq no record holds (one pass over the index, counted by seq in the database)."""
        last, runs = self.report.last_seq, self.counts
        firsts = [first for first, _ in runs]
        query = "SELECT seq, count(*) FROM audit_subjects WHERE seq <= ? GROUP BY seq"
        reported = {f.seq for f in self.report.findings if f.kind == "index"}
        for seq, count in await (await _driver(conn)).execute_fetchall(query, (last,)):
            run = bisect.bisect_right(firsts, seq) - 1  # the run that would hold seq; -1: no record there
            at = seq - runs[run][0] if run >= 0 else -1
            wanted = runs[run][1][at] if 0 <= at < len(runs[run][1]) else -1
            if count != wanted and seq not in reported:  # a record's missing rows were reported by its window
                self.report.add(seq, "index", "subject index rows for a record that does not exist" if wanted < 0
                                else "the subject index does not match the record's subjects")

    async def _place(self, conn: AsyncConnection) -> None:
        """Where the chain puts each misplaced row: its hashes walked over every authentic row."""
        query = (
            select(AuditRecordRow.seq, AuditRecordRow.hash, AuditRecordRow.prev_hash, AuditRecordRow.mac)
            .where(AuditRecordRow.seq > self.start.seq, AuditRecordRow.seq <= self.report.last_seq)
        )
        rows = [row for row in await conn.execute(query) if self.checker.authentic(row.hash, row.mac)]
        positions = chain_positions(rows, self.start)
        for row in self.misplaced:
            _misplaced(row, positions, self.report)


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
    if problem is None and (row is None or row.hash != at[-1].hash or not Checker(keys).authentic(row.hash, row.mac)):
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


def _misplaced(row: Link, positions: dict[str, int], report: Report) -> None:
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
    keys, driver = sorted(set().union(*expected.values())), await _driver(conn)
    for at in range(0, len(keys), KEYS_PER_READ):
        chunk = keys[at : at + KEYS_PER_READ]
        query = (f"SELECT seq, subject_key FROM audit_subjects WHERE subject_key IN ({', '.join('?' * len(chunk))})"
                 " AND seq >= ? AND seq <= ?")  # fmt: skip
        for seq, key in await driver.execute_fetchall(query, (*chunk, first, last)):
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
