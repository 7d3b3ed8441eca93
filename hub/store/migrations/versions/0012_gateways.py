"""Gateways: a client kind of their own, their TLS client certificates (RFC 8705), and the audit
record's note of what a gateway declared (its id, the originating system, whether a token proved it).

Revision ID: 0012
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="system"))
    op.create_table(
        "client_certificates",
        # RFC 8705 section 3.1: x5t#S256, the base64url SHA-256 of the certificate's DER.
        sa.Column("thumbprint", sa.String(64), primary_key=True),
        sa.Column("client_id", sa.String(64), sa.ForeignKey("clients.client_id"), nullable=False, index=True),
        sa.Column("subject", sa.String(400), nullable=False),
        sa.Column("not_after", sa.BigInteger, nullable=False),
        sa.Column("added_at", sa.BigInteger, nullable=False),
    )
    with op.batch_alter_table("audit_records") as batch:
        batch.add_column(sa.Column("gateway", sa.String(64), nullable=True))
        batch.add_column(sa.Column("origin_client", sa.String(64), nullable=True))
        batch.add_column(sa.Column("origin_proven", sa.Boolean, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_records") as batch:
        batch.drop_column("origin_proven")
        batch.drop_column("origin_client")
        batch.drop_column("gateway")
    op.drop_table("client_certificates")
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("kind")
