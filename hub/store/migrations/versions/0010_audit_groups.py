"""The audit appended in groups: records in layout 2 (subjects grouped by their field set), the subject
index keyed by a 64-bit hash of each reference in one B-tree, and per-hour usage counts.

Records already written keep layout 1 and their hashes: ``verify`` recomputes each record in its own
layout, so an existing chain verifies after this migration as before it. Their index rows are carried
over to the new keys.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

CHUNK = 5000


def subject_key(reference: str) -> int:  # as hub.audit.records.subject_key, frozen for this migration
    return int.from_bytes(hashlib.sha256(reference.encode("utf-8")).digest()[:8], "big", signed=True)


def upgrade() -> None:
    op.add_column("audit_records", sa.Column("layout", sa.Integer, nullable=False, server_default="1"))
    keyed = op.create_table(
        "audit_subject_keys",
        sa.Column("subject_key", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False, autoincrement=False),
        sa.PrimaryKeyConstraint("subject_key", "seq", name="pk_audit_subject_keys"),
        sqlite_with_rowid=False,
    )
    _carry_index_over(keyed)
    op.drop_index("ix_audit_subjects_subject_seq", table_name="audit_subjects")
    op.drop_table("audit_subjects")
    op.rename_table("audit_subject_keys", "audit_subjects")
    if op.get_bind().dialect.name == "postgresql":  # constraint names are per schema there
        op.execute("ALTER TABLE audit_subjects RENAME CONSTRAINT pk_audit_subject_keys TO pk_audit_subjects")
    usage = op.create_table(
        "audit_usage",
        sa.Column("hour", sa.String(13), primary_key=True),
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("department", sa.String(40), nullable=False),
        sa.Column("records", sa.BigInteger, nullable=False),
        sa.Column("subjects", sa.BigInteger, nullable=False),
    )
    _count_usage(usage)


def _carry_index_over(keyed: sa.Table) -> None:
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.text("SELECT seq, subject FROM audit_subjects WHERE seq > :last ORDER BY seq LIMIT :n"),
            {"last": last, "n": CHUNK},
        ).all()
        if not rows:
            return
        last = rows[-1].seq
        rest = bind.execute(  # the chunk may end inside a record: take the rest of its rows
            sa.text("SELECT seq, subject FROM audit_subjects WHERE seq = :seq"), {"seq": last}
        ).all()
        found = {(subject_key(r.subject), r.seq) for r in [*rows, *rest]}
        bind.execute(keyed.insert(), [{"subject_key": k, "seq": s} for k, s in sorted(found)])


def _count_usage(usage: sa.Table) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT substr(r.time, 1, 13) AS hour, r.client_id, max(r.department) AS department,"
        " count(DISTINCT r.seq) AS records, count(s.seq) AS subjects"
        " FROM audit_records r LEFT JOIN audit_subjects s ON s.seq = r.seq"
        " GROUP BY substr(r.time, 1, 13), r.client_id"
    )).all()
    if rows:
        bind.execute(usage.insert(), [dict(r._mapping) for r in rows])


def downgrade() -> None:
    raise NotImplementedError("the audit's subject index cannot be turned back into references")
