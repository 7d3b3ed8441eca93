"""The audit tables (migrations ``0002_audit`` and ``0010_audit_groups``), on the store's metadata.

``audit_records`` is append-only: the hub inserts and never updates or deletes; ``layout`` says how
a record's subjects are kept and chained (``records``). Each subject has a 64-bit key of its
reference (``records.subject_key``), indexed so "who accessed this subject" reads an index, not the
log: on PostgreSQL as the record's ``subject_keys`` array under a GIN index; on SQLite in
``audit_subjects``, one B-tree on (key, block) without rowids, written in batches after the records'
own commit and complete through ``audit_index.seq`` (migration 0017). A block is ``SUBJECT_BLOCK``
consecutive seqs (migration 0019): a subject named by several records of one block is one row, so
the same list pages requested again and again add a look-up, not a row, per subject (who-accessed
reads the block's records and keeps those that name the subject; docs/architecture.md, "The audit").
A record's row writes five B-trees on SQLite (the table, keyed by seq, and the four search indexes)
and as many plus the GIN index on PostgreSQL: no index on ``hash`` (migration 0018). ``audit_head`` is
one row (id 1): the last seq and hash, locked once per group of appends. ``audit_seals`` holds signed
checkpoints; ``audit_seal_keys`` their keys, private halves sealed at rest. ``audit_usage`` counts
records and subjects per hour and client for the console's overview: a statistic written in each
group's transaction, not evidence (``verify`` does not vouch for it).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, LargeBinary, String
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.models import Base

SEQ = BigInteger().with_variant(Integer(), "sqlite")
SUBJECT_KEYS = postgresql.ARRAY(BigInteger).with_variant(LargeBinary(), "sqlite")
# SQLite's subject index: seqs per block (block = seq // SUBJECT_BLOCK). Stored data depends on it:
# changing it needs a migration that rebuilds ``audit_subjects`` (0019 made it 64).
SUBJECT_BLOCK = 64


def block_of(seq: int) -> int:
    """The ``audit_subjects`` block of a record (floor division: a seq below 1 is no record's)."""
    return seq // SUBJECT_BLOCK


class AuditRecordRow(Base):
    __tablename__ = "audit_records"
    # Auditors search by client, purpose, case and time, newest first (hub/audit/queries.py): each
    # criterion with seq, so a rare client's records are found without walking the whole log.
    __table_args__ = (
        Index("ix_audit_records_client_id_seq", "client_id", "seq"),
        Index("ix_audit_records_purpose_seq", "purpose", "seq"),
        Index("ix_audit_records_case_number_seq", "case_number", "seq"),
        Index("ix_audit_records_time", "time"),
    )

    # SQLite (migration 0018): INTEGER, so seq is the table's rowid, not a second B-tree beside it.
    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=False)
    time: Mapped[str] = mapped_column(String(32))
    request_id: Mapped[str] = mapped_column(String(128))
    client_id: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(40))
    end_user: Mapped[str | None] = mapped_column(String(128), nullable=True)
    purpose: Mapped[str] = mapped_column(String(200))
    case_number: Mapped[str | None] = mapped_column(String(128), nullable=True)
    operation_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    operation_hash: Mapped[str] = mapped_column(String(64))
    subjects: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    layout: Mapped[int] = mapped_column(Integer, server_default="1")
    # Set only for a request a gateway made (migration 0012): hashed with the record then, never before.
    gateway: Mapped[str | None] = mapped_column(String(64), nullable=True)
    origin_client: Mapped[str | None] = mapped_column(String(64), nullable=True)
    origin_proven: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))  # no index: nothing looks a record up by it (0018)
    mac: Mapped[str] = mapped_column(String(64))
    # PostgreSQL (migration 0017): the subjects' keys, sorted, under a GIN index: the who-accessed
    # index without a row per subject. Not chained: ``verify`` checks it against ``subjects``.
    # NULL on SQLite, whose index is ``audit_subjects``.
    subject_keys: Mapped[list[int] | None] = mapped_column(SUBJECT_KEYS, nullable=True)


class AuditSubjectRow(Base):
    """SQLite only (PostgreSQL keeps ``AuditRecordRow.subject_keys``): a subject's key and a block of
    seqs one of whose records names it, written in batches after the records' commit: the rows of
    a block are exactly the keys its records up to ``AuditIndexRow.seq`` name (migration 0019)."""

    __tablename__ = "audit_subjects"
    __table_args__ = {"sqlite_with_rowid": False}

    subject_key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    block: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class AuditIndexRow(Base):
    """SQLite only: one row (id 1), the seq through which ``audit_subjects`` holds every record's keys."""

    __tablename__ = "audit_index"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)


class AuditUsageRow(Base):
    __tablename__ = "audit_usage"

    hour: Mapped[str] = mapped_column(String(13), primary_key=True)  # UTC, 2026-12-07T06
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    department: Mapped[str] = mapped_column(String(40))
    records: Mapped[int] = mapped_column(BigInteger)
    subjects: Mapped[int] = mapped_column(BigInteger)


class AuditHeadRow(Base):
    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AuditSealRow(Base):
    __tablename__ = "audit_seals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    hash: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[str] = mapped_column(String(32))
    kid: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(2000))  # compact JWS over {seq, hash, sealed_at}


class AuditSealKeyRow(Base):
    __tablename__ = "audit_seal_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    sealed_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[int] = mapped_column(BigInteger)
