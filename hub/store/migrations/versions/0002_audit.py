"""The disclosure audit: hash-chained records, their subject index, the head, seals and seal keys.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    op.create_table(
        "audit_records",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("time", sa.String(32), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("department", sa.String(40), nullable=False),
        sa.Column("end_user", sa.String(128), nullable=True),
        sa.Column("purpose", sa.String(200), nullable=False),
        sa.Column("case_number", sa.String(128), nullable=True),
        sa.Column("operation_name", sa.String(200), nullable=True),
        sa.Column("operation_hash", sa.String(64), nullable=False),
        sa.Column("subjects", sa.JSON, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
        sa.UniqueConstraint("hash", name="uq_audit_records_hash"),
    )
    op.create_table(
        "audit_subjects",
        sa.Column("seq", sa.BigInteger, sa.ForeignKey("audit_records.seq"), primary_key=True),
        sa.Column("subject", sa.String(128), primary_key=True),
    )
    op.create_index("ix_audit_subjects_subject_seq", "audit_subjects", ["subject", "seq"])
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("mac", sa.String(64), nullable=True),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS, "mac": None}])
    op.create_table(
        "audit_seals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("sealed_at", sa.String(32), nullable=False),
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(2000), nullable=False),
    )
    op.create_index("ix_audit_seals_seq", "audit_seals", ["seq"])
    op.create_table(
        "audit_seal_keys",
        sa.Column("kid", sa.String(64), primary_key=True),
        sa.Column("public_jwk", sa.JSON, nullable=False),
        sa.Column("sealed_private_key", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit_seal_keys")
    op.drop_table("audit_seals")
    op.drop_table("audit_head")
    op.drop_table("audit_subjects")
    op.drop_table("audit_records")
