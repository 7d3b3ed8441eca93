"""The audit's subject index without a row per subject on PostgreSQL, and indexed in batches on SQLite.

PostgreSQL: each record carries its subjects' 64-bit keys as one ``bigint[]`` column
(``subject_keys``) under a GIN index (compressed posting lists; new entries go to GIN's pending list,
merged in bulk), so a record of 1,000 subjects is one row, not 1,000 heap tuples and B-tree entries.
``audit_subjects`` is carried into the arrays and dropped.

SQLite: ``audit_subjects`` stays (a B-tree without rowids, about 20 bytes a subject) but is written
in batches after the records' own commit, not in the request's transaction; ``audit_index`` (one
row) says through which seq it is complete. ``subject_keys`` exists there too and stays NULL.

Records, hashes, MACs, head and seals are untouched: the chain verifies after this as before it.

Revision ID: 0017
Revises: 0012
"""

from __future__ import annotations

import hashlib
import json
from typing import cast

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0017"
down_revision = "0012"
branch_labels = None
depends_on = None

KEYS = postgresql.ARRAY(sa.BigInteger).with_variant(sa.LargeBinary(), "sqlite")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.add_column("audit_records", sa.Column("subject_keys", KEYS, nullable=True))
        op.execute(
            "UPDATE audit_records r SET subject_keys = k.keys FROM (SELECT seq, array_agg(subject_key ORDER BY"
            " subject_key) AS keys FROM audit_subjects GROUP BY seq) k WHERE k.seq = r.seq"
        )
        op.execute("UPDATE audit_records SET subject_keys = '{}' WHERE subject_keys IS NULL")
        op.create_index("ix_audit_records_subject_keys", "audit_records", ["subject_keys"],
                        postgresql_using="gin")
        op.drop_table("audit_subjects")
        return
    with op.batch_alter_table("audit_records") as batch:
        batch.add_column(sa.Column("subject_keys", KEYS, nullable=True))
    index = op.create_table(
        "audit_index",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
    )
    last = op.get_bind().execute(sa.text("SELECT coalesce(max(seq), 0) FROM audit_records")).scalar_one()
    op.bulk_insert(index, [{"id": 1, "seq": last}])  # every record written so far has its index rows


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_table(
            "audit_subjects",
            sa.Column("subject_key", sa.BigInteger, nullable=False, autoincrement=False),
            sa.Column("seq", sa.BigInteger, nullable=False, autoincrement=False),
            sa.PrimaryKeyConstraint("subject_key", "seq", name="pk_audit_subjects"),
        )
        op.execute("INSERT INTO audit_subjects (subject_key, seq) SELECT DISTINCT unnest(subject_keys), seq"
                   " FROM audit_records")
        op.drop_index("ix_audit_records_subject_keys", table_name="audit_records")
        op.drop_column("audit_records", "subject_keys")
        return
    # Records past the batch index's mark get their rows now: before this revision every record had them.
    mark = op.get_bind().execute(sa.text("SELECT seq FROM audit_index WHERE id = 1")).scalar_one()
    rows = op.get_bind().execute(
        sa.text("SELECT seq, subjects, layout FROM audit_records WHERE seq > :mark"), {"mark": mark}
    ).all()
    keyed = sorted({(subject_key(ref), row.seq) for row in rows for ref in _references(row.subjects, row.layout)})
    if keyed:
        op.get_bind().execute(sa.text("INSERT INTO audit_subjects (subject_key, seq) VALUES (:key, :seq)"),
                              [{"key": key, "seq": seq} for key, seq in keyed])
    op.drop_table("audit_index")
    with op.batch_alter_table("audit_records") as batch:
        batch.drop_column("subject_keys")


def subject_key(reference: str) -> int:  # as hub.audit.records.subject_key, frozen for this migration
    return int.from_bytes(hashlib.sha256(reference.encode("utf-8")).digest()[:8], "big", signed=True)


def _references(subjects: str | list[dict[str, object]], layout: int) -> list[str]:
    stored = json.loads(subjects) if isinstance(subjects, str) else subjects
    if layout == 1:
        return [str(entry["subject"]) for entry in stored]
    return [str(ref) for group in stored for ref in cast(list[object], group["subjects"])]
