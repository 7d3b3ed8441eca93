"""SQLite's subject index by blocks of records: a row per subject per block of 64 seqs, not per record.

``audit_subjects`` held (subject key, seq): a page of 1,000 enterprises wrote 1,000 B-tree rows per
record, most of them "this subject again, a few records later". It now holds (subject key, block),
block = seq // 64: a subject named by several records of one block is one row. Who-accessed reads
the records of each block its key lists and keeps those that name the subject; ``verify`` holds each
block's rows to the union of its records' keys (docs/architecture.md, "The audit").

The rows are carried over from the per-record ones (a row per key and block they name), so what
``verify`` found in the old index is found in the new one as far as the new layout can tell: a
record's missing row stays missing unless another record of its block names the same subject. Run
``hub audit verify`` before upgrading to be told about every one. ``audit_index.seq`` is unchanged:
the records through it had their rows, and their blocks now do. PostgreSQL (the records' own
``subject_keys`` under a GIN index) is untouched. Records, hashes, MACs, head and seals are
untouched: the chain verifies after this as before it.

Going back rebuilds a row per subject per record from the records through the mark.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import hashlib
import json
from typing import cast

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

BLOCK = 64  # as hub.audit.tables.SUBJECT_BLOCK, frozen for this migration
CHUNK = 5000  # records read at a time when going back


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _table("audit_subject_blocks", "block")
    # ``>> 6`` is floor division by 64 for every integer, as Python's ``//`` (SQLite's ``/`` truncates).
    op.execute("INSERT OR IGNORE INTO audit_subject_blocks (subject_key, block)"
               " SELECT subject_key, seq >> 6 FROM audit_subjects ORDER BY subject_key, seq")
    op.drop_table("audit_subjects")
    op.rename_table("audit_subject_blocks", "audit_subjects")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    bind = op.get_bind()
    per_record = _table("audit_subject_seqs", "seq")
    mark = bind.execute(sa.text("SELECT coalesce((SELECT seq FROM audit_index WHERE id = 1), 0)")).scalar_one()
    last = 0
    while rows := bind.execute(
        sa.text("SELECT seq, subjects, layout FROM audit_records WHERE seq > :last AND seq <= :mark"
                " ORDER BY seq LIMIT :n"), {"last": last, "mark": mark, "n": CHUNK},
    ).all():
        keyed = {(subject_key(ref), row.seq) for row in rows for ref in _references(row.subjects, row.layout)}
        if keyed:
            op.bulk_insert(per_record, [{"subject_key": key, "seq": seq} for key, seq in sorted(keyed)])
        last = rows[-1].seq
    op.drop_table("audit_subjects")
    op.rename_table("audit_subject_seqs", "audit_subjects")


def _table(name: str, column: str) -> sa.Table:
    return op.create_table(
        name,
        sa.Column("subject_key", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column(column, sa.BigInteger, nullable=False, autoincrement=False),
        sa.PrimaryKeyConstraint("subject_key", column, name="pk_audit_subjects"),
        sqlite_with_rowid=False,
    )


def subject_key(reference: str) -> int:  # as hub.audit.records.subject_key, frozen for this migration
    return int.from_bytes(hashlib.sha256(reference.encode("utf-8")).digest()[:8], "big", signed=True)


def _references(subjects: str | list[dict[str, object]], layout: int) -> list[str]:
    """A record's references (as ``hub.audit.records.references``); none when they cannot be read
    (an edited record: ``verify`` reports it)."""
    try:
        stored = json.loads(subjects) if isinstance(subjects, str) else subjects
        if layout == 1:
            return [str(entry["subject"]) for entry in stored]
        return [str(ref) for group in stored for ref in cast(list[object], group["subjects"])]
    except (ValueError, KeyError, TypeError):
        return []
