"""``verify``: recompute the chain, check every MAC, the head and the seals; name each tampering.

Kinds of finding, each at a seq:

``edited``     the row's content no longer hashes to its (authentic) hash
``inserted``   a row the hub did not write: its hash, however well recomputed, has no valid MAC
``deleted``    a seq is missing, or a row's predecessor is nowhere in the log
``reordered``  an authentic row out of its place: its predecessor is in the log, elsewhere, or it
               stands at seq 0 or below, before the log's first record
``truncated``  records the head or a seal vouches for are gone from the end of the log
``index``      the subject index disagrees with the record (who-accessed would mislead): on
               PostgreSQL the record's ``subject_keys``; on SQLite the ``audit_subjects`` rows of its
               block, which must be exactly the keys the block's records up to ``audit_index.seq``
               name (reported at the first record naming a missing key, at the record past the mark
               whose key is listed early, or at the block's first record for a key none names; at
               seq 0 for a mark, ``audit_index.seq``, gone or past the head)
``head``       the head row is not one the hub wrote
``seal``       a seal whose signature, key or claims do not hold, or that disagrees with the log
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.audit import tables
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


NO_MARK = 2**63 - 1  # the subject index's mark gone (reported): any row of a record read may be there
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
        # SQLite: the records of each block not checked yet, (seq, keys) in seq order; a block is
        # checked once the walk is past its end (or at the walk's end), whichever window read its records.
        self.pending: dict[int, list[tuple[int, set[int]]]] = {}
        # SQLite, a full check: per block checked, (its first seq read, the number of rows it must
        # hold), or its records when the mark was inside it (the count then depends on the mark).
        self.expected_rows: dict[int, tuple[int, int] | list[tuple[int, set[int]]]] = {}
        self.checker = Checker(store.keys)

    async def run(self, conn: AsyncConnection, *, whole: bool) -> None:
        report, start, sqlite, checker = self.report, self.start, self.store.sqlite, self.checker
        findings, sealed, misplaced = report.findings, self.sealed, self.misplaced
        expected, prev_hash, prev_forged = start.seq + 1, start.hash, False
        # The next window is asked for before this one is checked: the database reads it meanwhile.
        if sqlite and start.seq > 0 and start.seq % tables.SUBJECT_BLOCK != tables.SUBJECT_BLOCK - 1:
            # From a seal inside a block: the block's rows are the keys of its records before the seal too.
            lo = max(tables.block_of(start.seq) * tables.SUBJECT_BLOCK, 1)
            before = await self._records(conn, lo, start.seq)
            if before:
                self.pending[tables.block_of(start.seq)] = before
        reading = asyncio.ensure_future(_window(conn, sqlite, start.seq))
        try:
            while window := await reading:
                reading = asyncio.ensure_future(_window(conn, sqlite, window[-1][0]))
                await asyncio.sleep(0)  # the next window's query on its way
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
                        self.pending.setdefault(tables.block_of(seq), []).append((seq, named))
                    elif not _keys_match(stored_keys, named):
                        findings.append(Finding(seq, "index", "the record's subject keys do not match its subjects"))
                    expected, prev_hash, prev_forged = seq + 1, record_hash, forged
                report.records += len(window)
                if sqlite:  # the blocks the walk is past the end of
                    done = tables.block_of(window[-1][0] + 1)
                    await self._check_blocks(conn, [block for block in self.pending if block < done], whole=whole)
        finally:
            if not reading.done():
                reading.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reading
        report.last_seq = expected - 1
        if sqlite and self.pending:  # the last block (and any the walk ended inside)
            await self._check_blocks(conn, list(self.pending), whole=whole, tail=True)
        if self.misplaced:
            await self._place(conn)
        if whole:
            await self._before_first(conn)
        if sqlite:
            await self._mark_within_head(conn)
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

    async def _mark(self, conn: AsyncConnection) -> int | None:
        """``audit_index.seq``; None, reported once, when its row is gone."""
        mark = (await conn.execute(select(AuditIndexRow.seq).where(AuditIndexRow.id == 1))).scalar_one_or_none()
        if mark is None and not any(f.kind == "index" and f.seq == 0 for f in self.report.findings):
            self.report.add(0, "index", "the subject index's mark (audit_index) is missing")
        return mark

    async def _records(self, conn: AsyncConnection, first: int, last: int) -> list[tuple[int, set[int]]]:
        """The keys of the records ``first..last`` (seq order), read for their subjects alone: records
        an incremental check trusts (before its seal) or appended since the walk read the log's end."""
        query = "SELECT seq, subjects, layout FROM audit_records WHERE seq >= ? AND seq <= ? ORDER BY seq"
        found = []
        for seq, subjects, layout in await (await _driver(conn)).execute_fetchall(query, (first, last)):
            try:
                parsed = orjson.loads(subjects)
            except orjson.JSONDecodeError:
                parsed = None  # names nothing (reported as edited when the walk reads it)
            found.append((seq, self.checker.expected(parsed, layout)))
        return found

    async def _check_blocks(self, conn: AsyncConnection, blocks: list[int], *, whole: bool, tail: bool = False) -> None:
        """SQLite: each block's ``audit_subjects`` rows against the keys its records name. Rows are
        written with the mark in one transaction, so a block holds exactly the keys of its records up
        to the mark; the mark is read before the rows and again after them (a batch may commit
        between): every key of a record up to the first must be there, and none but those of the
        records up to the second. Rows are read by the keys the records name, each by its (key, block)
        B-tree range; a row for a key none of them names is found by a full check's count of each
        block's rows (``_stray_rows``)."""
        if not blocks:
            return
        size, report = tables.SUBJECT_BLOCK, self.report
        records = {block: self.pending.pop(block) for block in blocks}
        first = await self._mark(conn)
        found = await _index_rows(conn, records, min(blocks), max(blocks))
        last = (await self._mark(conn)) if first is not None else None
        # No mark: no row is required (the loss is reported). Records appended since the walk read the
        # log's end may have rows (read below), but their keys were not read for: none is required.
        since = min(first, report.last_seq) if first is not None and tail else first or 0
        upto = last if last is not None else NO_MARK  # nor refused
        if tail and upto > report.last_seq:  # records appended and indexed since the walk read the end
            block = tables.block_of(report.last_seq)
            if block in records:
                later = await self._records(conn, report.last_seq + 1, min(upto, block * size + size - 1))
                records[block] = records[block] + later
        for block, named in records.items():
            lo, hi = block * size, block * size + size - 1
            rows, flagged = found.get(block, set()), set()
            allowed = set().union(*(keys for seq, keys in named if seq <= upto))
            required = allowed if named[-1][0] <= since else set().union(*(k for seq, k in named if seq <= since))
            for key in required - rows:
                flagged.add(next(seq for seq, keys in named if key in keys))
            for key in rows - allowed:
                flagged.add(next((seq for seq, keys in named if key in keys), named[0][0]))
            for seq in sorted(flagged):
                report.add(seq, "index", f"the subject index of seqs {lo} to {hi} does not match its records' subjects")
            if whole:
                indexed = all(seq <= since for seq, _ in named) and not tail
                self.expected_rows[block] = (named[0][0], len(allowed)) if indexed else named

    async def _mark_within_head(self, conn: AsyncConnection) -> None:
        """The mark is never past the head: a batch indexes committed records only, and the head moves
        with them. A mark moved ahead would leave the records appended up to it out of both the index
        (the writer starts past the mark) and who-accessed's read of the records past it, and would
        pass rows for blocks past the log's end as appended meanwhile (``_stray_rows``). Both read in
        one statement (the same snapshot); a head the hub did not write is reported as such instead."""
        query = "SELECT (SELECT seq FROM audit_index WHERE id = 1), seq, hash, mac FROM audit_head WHERE id = 1"
        for mark, head, head_hash, mac in await (await _driver(conn)).execute_fetchall(query):
            if not (type(mark) is type(head) is int and isinstance(head_hash, str) and isinstance(mac, str)):
                continue  # a mark or head of another type: the head's own check reports it
            if mark > head and self.keys.head_mac_ok(head, head_hash, mac):
                detail = f"the subject index's mark (audit_index) is at seq {mark}, past the head's {head}"
                self.report.add(0, "index", detail)

    async def _stray_rows(self, conn: AsyncConnection) -> None:
        """Rows no record's keys account for: more rows in a block than its records name, or rows for
        a block no record holds (one pass over the index, counted by block in the database, with the
        mark and the head read in the same statement: the same snapshot)."""
        last, size, report = self.report.last_seq, tables.SUBJECT_BLOCK, self.report
        query = ("SELECT block, count(*), (SELECT seq FROM audit_index WHERE id = 1),"
                 " (SELECT seq FROM audit_head WHERE id = 1) FROM audit_subjects GROUP BY block")  # fmt: skip
        reported = {tables.block_of(f.seq) for f in report.findings if f.kind == "index" and f.seq != 0}
        for block, count, mark, head in await (await _driver(conn)).execute_fetchall(query):
            # Records appended and indexed since the walk read the log's end: up to the mark, and never
            # past the head (a mark ahead of it is reported by ``_mark_within_head``).
            reach = mark if mark is None or head is None else min(mark, head)
            if block > tables.block_of(last) and reach is not None and block * size <= reach:
                continue
            wanted = self.expected_rows.get(block)
            if isinstance(wanted, list):  # the mark was inside the block: the keys of its records up to it
                upto = last if mark is None else mark
                if upto > last and block == tables.block_of(last):
                    wanted = wanted + await self._records(conn, last + 1, min(upto, block * size + size - 1))
                wanted = (wanted[0][0], len(set().union(*(keys for seq, keys in wanted if seq <= upto))))
            if wanted is None:
                report.add(block * size or 1, "index", "subject index rows for a block of seqs no record holds")
            elif count != wanted[1] and block not in reported:  # a missing row was reported by its block's check
                report.add(wanted[0], "index", f"the subject index of seqs {block * size} to {block * size + size - 1}"
                           " lists a subject none of its records names")

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
    conn: AsyncConnection, records: dict[int, list[tuple[int, set[int]]]], first: int, last: int
) -> dict[int, set[int]]:
    """``audit_subjects`` rows of the blocks ``first..last`` for the keys their records name, each key
    read by its (key, block) B-tree range: the index read costs the blocks' subjects, not the table."""
    indexed: dict[int, set[int]] = defaultdict(set)
    named = set().union(*(keys for block in records.values() for _, keys in block))
    keys, driver = sorted(named), await _driver(conn)
    for at in range(0, len(keys), KEYS_PER_READ):
        chunk = keys[at : at + KEYS_PER_READ]
        query = (f"SELECT block, subject_key FROM audit_subjects WHERE subject_key IN ({', '.join('?' * len(chunk))})"
                 " AND block >= ? AND block <= ?")  # fmt: skip
        for block, key in await driver.execute_fetchall(query, (*chunk, first, last)):
            indexed[block].add(key)
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
