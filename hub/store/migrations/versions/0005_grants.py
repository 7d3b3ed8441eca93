"""Purpose-bound grants, grant requests, the admin actions log, a department's jurisdiction.

Grants become the only source of what a client may read: each client's ``clients.scopes`` is
moved into one grant with no purposes (so it fails closed until its owning steward names them)
and the column is dropped.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import secrets
import time

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

MIGRATED_DAYS = 365
MIGRATED_BASIS = "moved from the client's scopes by migration 0005; purposes to be named by the owning steward"


def upgrade() -> None:
    with op.batch_alter_table("departments") as batch:
        batch.add_column(sa.Column("jurisdiction", sa.String(12), nullable=False, server_default=""))
    _create_grant_requests()
    _create_grants()
    _create_admin_actions()
    _move_client_scopes()
    # An in-place DROP COLUMN (SQLite 3.35+, PostgreSQL): recreating ``clients`` under SQLite's
    # foreign keys would fail once grants refer to its rows.
    with op.batch_alter_table("clients", recreate="never") as batch:
        batch.drop_column("scopes")


def _create_grant_requests() -> None:
    op.create_table(
        "grant_requests",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("client_id", sa.String(64), sa.ForeignKey("clients.client_id"), nullable=False),
        sa.Column("consumer_department", sa.String(40), nullable=False),
        sa.Column("owner_department", sa.String(40), nullable=False),
        sa.Column("scopes", sa.JSON, nullable=False),
        sa.Column("purposes", sa.JSON, nullable=False),
        sa.Column("legal_basis", sa.Text, nullable=False),
        sa.Column("duration_days", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("deadline", sa.BigInteger, nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", sa.BigInteger, nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
    )
    op.create_index("ix_grant_requests_client_id", "grant_requests", ["client_id"])
    op.create_index("ix_grant_requests_owner_department", "grant_requests", ["owner_department"])
    op.create_index("ix_grant_requests_consumer_department", "grant_requests", ["consumer_department"])


def _create_grants() -> None:
    op.create_table(
        "grants",
        sa.Column("grant_id", sa.String(64), primary_key=True),
        sa.Column("client_id", sa.String(64), sa.ForeignKey("clients.client_id"), nullable=False),
        sa.Column("owner_department", sa.String(40), nullable=False),
        sa.Column("scopes", sa.JSON, nullable=False),
        sa.Column("purposes", sa.JSON, nullable=False),
        sa.Column("valid_from", sa.BigInteger, nullable=False),
        sa.Column("valid_to", sa.BigInteger, nullable=False),
        sa.Column("duration_days", sa.Integer, nullable=False),
        sa.Column("granted_by", sa.String(64), nullable=False),
        sa.Column("legal_basis", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("revoked_at", sa.BigInteger, nullable=True),
        sa.Column("revoked_by", sa.String(64), nullable=True),
        sa.Column("revoke_reason", sa.Text, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column(
            "request_id", sa.String(64), sa.ForeignKey("grant_requests.request_id"), nullable=True
        ),
    )
    op.create_index("ix_grants_client_id", "grants", ["client_id"])
    op.create_index("ix_grants_owner_department", "grants", ["owner_department"])


def _create_admin_actions() -> None:
    op.create_table(
        "admin_actions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("why", sa.Text, nullable=True),
        sa.Column("details", sa.JSON, nullable=False),
    )
    op.create_index("ix_admin_actions_at", "admin_actions", ["at"])
    op.create_index("ix_admin_actions_target", "admin_actions", ["target"])


def _move_client_scopes() -> None:
    """One grant per client that had scopes: the scope's owner is its prefix (``market.x:read``)."""
    clients = sa.table("clients", sa.column("client_id", sa.String), sa.column("scopes", sa.JSON))
    text, number, json = sa.String, sa.BigInteger, sa.JSON
    grants = sa.table(
        "grants",
        *(sa.column(name, kind) for name, kind in (
            ("grant_id", text), ("client_id", text), ("owner_department", text), ("scopes", json),
            ("purposes", json), ("valid_from", number), ("valid_to", number), ("duration_days", number),
            ("granted_by", text), ("legal_basis", text), ("status", text), ("created_at", number),
        )),
    )
    bind = op.get_bind()
    now = int(time.time())
    rows = []
    for client_id, scopes in bind.execute(sa.select(clients.c.client_id, clients.c.scopes)).all():
        by_owner: dict[str, list[str]] = {}
        for scope in scopes or []:
            by_owner.setdefault(scope.split(".", 1)[0], []).append(scope)
        for owner, owned in sorted(by_owner.items()):
            rows.append({
                "grant_id": f"g-{secrets.token_hex(8)}", "client_id": client_id, "owner_department": owner,
                "scopes": sorted(owned), "purposes": [], "valid_from": now,
                "valid_to": now + MIGRATED_DAYS * 86400, "duration_days": MIGRATED_DAYS,
                "granted_by": "migration-0005", "legal_basis": MIGRATED_BASIS, "status": "active",
                "created_at": now,
            })
    if rows:
        op.bulk_insert(grants, rows)


def downgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.add_column(sa.Column("scopes", sa.JSON, nullable=False, server_default="[]"))
    op.drop_table("admin_actions")
    op.drop_table("grants")
    op.drop_table("grant_requests")
    with op.batch_alter_table("departments") as batch:
        batch.drop_column("jurisdiction")
