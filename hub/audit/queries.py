"""Auditors' questions of the log: who accessed this subject's data, when and why; any disclosure
by client, subject, purpose, case and time; and whether the chain holds (``chain_status``).

``who_accessed`` reads the subject index (PostgreSQL: the GIN index over the records' ``subject_keys``;
SQLite: ``audit_subjects`` by its (subject key, block) B-tree, plus the few records appended since its
last batch, ``audit_index.seq``, read directly) and joins each hit to its record by primary key, so
it costs the subject's own accesses, not the length of the log. On SQLite a hit is a block of
``SUBJECT_BLOCK`` seqs: its records are read by a range of the primary key and kept when their
subjects' text names the reference (as past the mark), in the query itself, so a page of ``search``
is full and in order. Each hit is then confirmed against the record's own parsed subjects (on
PostgreSQL the key, a 64-bit hash, may collide). A person is looked up by the keyed hash of their ID
number, made with the same key as on append.

``search`` pages newest first by seq (keyset: ``before_seq`` is the last seq of the page before),
so a page costs the same however deep it is. Its subject filter uses the subject index; client,
purpose, case and time have no index of their own in migration 0002 and are checked while the
primary key is walked backwards from ``before_seq``, which stays cheap while matches are common.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Row, String, and_, func, literal, or_, select, type_coerce
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import aliased

from hub.audit.records import expand, subject_key
from hub.audit.search import Criteria, criteria
from hub.audit.status import ChainStatus, chain_status
from hub.audit import tables
from hub.audit.store import AuditStore
from hub.audit.tables import AuditIndexRow, AuditRecordRow, AuditSubjectRow


@dataclass(frozen=True, slots=True)
class Access:
    """One disclosure as an auditor reads it.

    ``fields`` are the looked-up subject's fields (field -> allow | mask | deny), empty when the
    question named no subject; ``subjects`` every subject the record names (``enterprise:<USCC>``
    or ``person:<keyed hash>``) with its fields.
    """

    seq: int
    time: str
    client_id: str
    department: str
    end_user: str | None
    purpose: str
    case_number: str | None
    operation_name: str | None
    fields: dict[str, str]
    request_id: str = ""
    operation_hash: str = ""
    subjects: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    named: bool = False  # the record names the looked-up subject (not only a key that collides)
    # A gateway's request: the gateway, and the system it declared (proven by that system's token or not).
    gateway: str | None = None
    origin_client: str | None = None
    origin_proven: bool | None = None


async def who_accessed(store: AuditStore, identifier: str) -> list[Access]:
    """Every disclosure of the subject (an enterprise's USCC or a person's ID number), oldest first.

    Raises ``InvalidIdentifier`` when the identifier is neither.
    """
    references = frozenset(store.pseudonyms.references(identifier))
    query = select(AuditRecordRow).where(_naming(store, references)).order_by(AuditRecordRow.seq)
    async with store.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [access for access in (_access(row, references) for row in rows) if access.named]


def _naming(store: AuditStore, references: frozenset[str], before: int | None = None) -> ColumnElement[bool]:
    """The records whose index names one of ``references`` (hits to be confirmed, see ``_access``),
    below seq ``before`` if given (a page of ``search``: blocks past it are not read)."""
    keys = sorted({subject_key(reference) for reference in references})
    record = AuditRecordRow
    if not store.sqlite:
        overlapping: ColumnElement[bool] = record.subject_keys.overlap(literal(keys, postgresql.ARRAY(BigInteger)))
        return overlapping
    size = tables.SUBJECT_BLOCK
    mark = func.coalesce(select(AuditIndexRow.seq).where(AuditIndexRow.id == 1).scalar_subquery(), 0)
    # The mark read once per block listed, not once per record read: as a bound of each block's range
    # of the primary key (a scalar subquery in the records' WHERE is evaluated for every record).
    blocks = select(AuditSubjectRow.block, mark.label("mark")).where(AuditSubjectRow.subject_key.in_(keys))
    if before is not None:
        blocks = blocks.where(AuditSubjectRow.block <= tables.block_of(before - 1))
    listed = blocks.distinct().subquery("listed")  # two references' keys in one block: its records once
    # Up to the mark, each block's records by a range of the primary key, kept when they name a
    # reference; past the mark, the records themselves. A reference is stored as a JSON string.
    candidate = aliased(AuditRecordRow, name="candidate")
    first, last = listed.c.block * size, func.min(listed.c.block * size + size - 1, listed.c.mark)
    indexed = (
        select(candidate.seq)
        .join(listed, and_(candidate.seq >= first, candidate.seq <= last))
        .where(_names(candidate, references))
    )
    if before is not None:
        indexed = indexed.where(candidate.seq < before)
    recent = select(record.seq).where(record.seq > mark, _names(record, references))
    return record.seq.in_(indexed.union_all(recent))


def _names(record: Any, references: frozenset[str]) -> ColumnElement[bool]:
    """The record's subjects' text holds one of ``references`` as a JSON string (SQLite)."""
    text = type_coerce(record.subjects, String)
    return or_(*(func.instr(text, f'"{reference}"') > 0 for reference in sorted(references)))


async def search(
    store: AuditStore,
    *,
    client_id: str | None = None,
    subject: str | None = None,
    purpose: str | None = None,
    case_number: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 100,
    before_seq: int | None = None,
) -> list[Access]:
    """Disclosures matching every criterion given, newest first, at most ``limit`` (1..500).

    ``subject`` is a USCC or an ID number (``InvalidIdentifier`` otherwise); ``since`` (inclusive)
    and ``until`` (exclusive) are ISO 8601 instants with a UTC offset; anything malformed raises
    ``ValueError`` naming the criterion. The next page: ``before_seq`` = the last seq returned.
    """
    asked = criteria(
        client_id=client_id, purpose=purpose, case_number=case_number,
        since=since, until=until, limit=limit, before_seq=before_seq,
    )  # fmt: skip
    references = frozenset(store.pseudonyms.references(subject)) if subject is not None else frozenset()
    async with store.engine.connect() as conn:
        rows = (await conn.execute(_search_query(store, asked, references))).all()
    return [access for access in (_access(row, references) for row in rows) if access.named or not references]


def _search_query(store: AuditStore, asked: Criteria, references: frozenset[str]) -> Any:
    record = AuditRecordRow
    query = select(record).order_by(record.seq.desc()).limit(asked.limit)
    if asked.before_seq is not None:
        query = query.where(record.seq < asked.before_seq)
    if references:
        query = query.where(_naming(store, references, asked.before_seq))
    for column, value in (
        (record.client_id, asked.client_id),
        (record.purpose, asked.purpose),
        (record.case_number, asked.case_number),
    ):
        if value is not None:
            query = query.where(column == value)
    if asked.since is not None:
        query = query.where(record.time >= asked.since)
    if asked.until is not None:
        query = query.where(record.time < asked.until)
    return query


def _access(row: Row[Any], references: frozenset[str]) -> Access:
    subjects = expand(row.subjects, row.layout)
    named = [name for name in subjects if name in references]
    fields = subjects[named[0]] if named else {}
    return Access(
        seq=row.seq,
        time=row.time,
        client_id=row.client_id,
        department=row.department,
        end_user=row.end_user,
        purpose=row.purpose,
        case_number=row.case_number,
        operation_name=row.operation_name,
        fields=dict(fields),
        request_id=row.request_id,
        operation_hash=row.operation_hash,
        subjects=subjects,
        named=bool(named),
        gateway=row.gateway,
        origin_client=row.origin_client,
        origin_proven=row.origin_proven,
    )


__all__ = ["Access", "ChainStatus", "chain_status", "search", "who_accessed"]
