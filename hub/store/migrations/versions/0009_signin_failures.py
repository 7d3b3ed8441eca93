"""Failed console sign-ins per client address (hub/admin/throttle.py): one row per failure, kept for
the throttle's window, so every replica sharing the registry counts the same failures.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_signin_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_console_signin_failures_address_at", "console_signin_failures", ["address", "at"])
    op.create_index("ix_console_signin_failures_at", "console_signin_failures", ["at"])


def downgrade() -> None:
    op.drop_table("console_signin_failures")
