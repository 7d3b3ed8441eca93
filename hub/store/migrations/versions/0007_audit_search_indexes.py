"""Indexes for auditors' searches of the disclosure log: by client, purpose, case (with seq) and time.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_audit_records_client_id_seq": ["client_id", "seq"],
    "ix_audit_records_purpose_seq": ["purpose", "seq"],
    "ix_audit_records_case_number_seq": ["case_number", "seq"],
    "ix_audit_records_time": ["time"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "audit_records", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="audit_records")
