"""A change counter for what token validation reads: one row, bumped by triggers on every write.

The resource side reads the counter once per request and keeps what it read of a client (its
status, department, cut-off, live grants) and which token ids are not revoked until the counter
moves (``hub/oauth/live.py``). Triggers bump it whatever writes the rows (the console, the CLI,
the grant service, another replica), so no write path can forget to.

Revision ID: 0016
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0013"
branch_labels = None
depends_on = None

WATCHED = ("departments", "clients", "grants", "revoked_tokens", "signing_keys")
BUMP = "UPDATE registry_changes SET generation = generation + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "registry_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("generation", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO registry_changes (id, generation) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE FUNCTION registry_changed() RETURNS trigger AS $$ BEGIN {BUMP}; RETURN NULL; END; "
                   "$$ LANGUAGE plpgsql")
        for table in WATCHED:
            op.execute(f"CREATE TRIGGER {table}_changed AFTER INSERT OR UPDATE OR DELETE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION registry_changed()")
        return
    for table in WATCHED:
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_{event.lower()}_changed AFTER {event} ON {table} "
                       f"BEGIN {BUMP}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER {table}_changed ON {table}")
        op.execute("DROP FUNCTION registry_changed()")
    else:
        for table in WATCHED:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_{event}_changed")
    op.drop_table("registry_changes")
