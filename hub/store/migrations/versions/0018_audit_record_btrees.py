"""Fewer B-trees written per audit record: no unique index on ``hash``, and on SQLite ``seq`` is the
table's own row key.

Every record appended writes its row and each index on ``audit_records``, and on SQLite every page
they touch is copied into the write-ahead log and flushed with the group's commit. Two of them held
nothing the log needs:

- ``uq_audit_records_hash``: nothing looks a record up by its hash (``verify`` walks by seq), and a
  record's hash is its content chained to its predecessor's, so two rows can only share one if a row
  was copied into the table, which ``verify`` reports as it reports any other edit (a link that does
  not hold, a row past the MAC'd head). Its keys are random, so each record touched a page of its own.
- SQLite only: ``seq`` was declared ``BIGINT``, which SQLite does not take as the rowid, so the table
  kept a rowid B-tree and a second B-tree for its primary key. Declared ``INTEGER`` it is the rowid.
  The table is copied once (rows in seq order, byte for byte: hashes, MACs and seals are untouched,
  and the chain verifies after this as before it); the search indexes are made again.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("uq_audit_records_hash", "audit_records", type_="unique")
        return
    with op.batch_alter_table("audit_records", recreate="always") as batch:
        batch.drop_constraint("uq_audit_records_hash", type_="unique")
        batch.alter_column("seq", existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.create_unique_constraint("uq_audit_records_hash", "audit_records", ["hash"])
        return
    with op.batch_alter_table("audit_records", recreate="always") as batch:
        batch.alter_column("seq", existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False)
        batch.create_unique_constraint("uq_audit_records_hash", ["hash"])
