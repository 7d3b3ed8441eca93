"""Fair use: a client's own rate limit and cost budgets (null: the settings' defaults), and a grant's
disclosure quota (distinct subjects a day under each of its scopes; null: no quota).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.add_column(sa.Column("limits", sa.JSON, nullable=True))
    with op.batch_alter_table("grants") as batch:
        batch.add_column(sa.Column("daily_quota", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("grants") as batch:
        batch.drop_column("daily_quota")
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("limits")
