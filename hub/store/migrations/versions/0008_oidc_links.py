"""Console accounts linked to OpenID Connect identities: (issuer, subject) -> username, set by the operator.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_oidc_links",
        sa.Column("issuer", sa.String(300), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column(
            "username", sa.String(64), sa.ForeignKey("accounts.username", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("issuer", "subject"),
    )
    op.create_index("ix_console_oidc_links_username", "console_oidc_links", ["username"])


def downgrade() -> None:
    op.drop_table("console_oidc_links")
