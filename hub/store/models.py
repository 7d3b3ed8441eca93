"""The tables: departments, their clients, grants and grant requests, the admin actions log,
the signing keys, revoked tokens.

Times are integer Unix seconds: the same on SQLite and PostgreSQL, compared directly with JWT
``iat``/``exp`` claims, no time-zone round trips.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Department(Base):
    __tablename__ = "departments"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | disabled
    # Tokens of its clients issued before this instant are dead (set on disable), as for a client.
    tokens_valid_after: Mapped[int] = mapped_column(BigInteger, default=0)
    # GB/T 2260 prefix its clients' row filters compare with a record's division code; "" = whole city.
    jurisdiction: Mapped[str] = mapped_column(String(12), default="")


class Client(Base):
    __tablename__ = "clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    department: Mapped[str] = mapped_column(ForeignKey("departments.name"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # active | disabled
    jwks: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"keys": [public JWK, ...]}
    created_at: Mapped[int] = mapped_column(BigInteger)
    # Tokens issued before this instant are dead (set on disable): a per-client cut-off.
    tokens_valid_after: Mapped[int] = mapped_column(BigInteger, default=0)
    # Its own rate limit and cost budgets (hub.fairuse.ClientLimits as JSON); None: the settings' defaults.
    limits: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True, default=None)
    # "system" (a department system: tokens) or "gateway" (a Federation gateway: TLS client certificates).
    kind: Mapped[str] = mapped_column(String(16), default="system", server_default="system")


class ClientCertificate(Base):
    """A gateway's TLS client certificate, registered like a key: by its RFC 8705 thumbprint (x5t#S256)."""

    __tablename__ = "client_certificates"

    thumbprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.client_id"), index=True)
    subject: Mapped[str] = mapped_column(String(400))
    not_after: Mapped[int] = mapped_column(BigInteger)
    added_at: Mapped[int] = mapped_column(BigInteger)


class GrantRequestRow(Base):
    """A client's request for scopes of one owning department (docs/architecture.md: conditional sharing)."""

    __tablename__ = "grant_requests"

    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.client_id"), index=True)
    consumer_department: Mapped[str] = mapped_column(String(40), index=True)
    owner_department: Mapped[str] = mapped_column(String(40), index=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    purposes: Mapped[list[str]] = mapped_column(JSON)
    legal_basis: Mapped[str] = mapped_column(Text)
    duration_days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # pending | approved | refused | withdrawn | granted
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)
    deadline: Mapped[int] = mapped_column(BigInteger)  # the owner answers by then
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class GrantRow(Base):
    """What a client may read (scopes), why (purposes), until when, on what legal basis."""

    __tablename__ = "grants"

    grant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.client_id"), index=True)
    owner_department: Mapped[str] = mapped_column(String(40), index=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    purposes: Mapped[list[str]] = mapped_column(JSON)
    valid_from: Mapped[int] = mapped_column(BigInteger)
    valid_to: Mapped[int] = mapped_column(BigInteger)  # exclusive
    duration_days: Mapped[int] = mapped_column(Integer)  # recertification extends by this much
    granted_by: Mapped[str] = mapped_column(String(64))
    legal_basis: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # active | revoked
    revoked_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    revoke_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    request_id: Mapped[str | None] = mapped_column(ForeignKey("grant_requests.request_id"), nullable=True)
    # Distinct subjects a day the client may be shown under each of its scopes (set by the owner); None: no quota.
    daily_quota: Mapped[int | None] = mapped_column(Integer, nullable=True, default=None)


class AdminActionRow(Base):
    """The admin actions log (docs/architecture.md: admin actions have their own audit log); append-only."""

    __tablename__ = "admin_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[int] = mapped_column(BigInteger, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200), index=True)
    why: Mapped[str | None] = mapped_column(Text, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class SigningKeyRow(Base):
    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), index=True)  # next | active | retired
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    sealed_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[int] = mapped_column(BigInteger)
    retired_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class RevokedToken(Base):
    __tablename__ = "revoked_tokens"
    __table_args__ = (Index("ix_revoked_tokens_expires_at", "expires_at"),)

    jti: Mapped[str] = mapped_column(String(128), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[int] = mapped_column(BigInteger)


class UsedAssertion(Base):
    """A client assertion's jti, kept until the assertion expires: single use across every replica."""

    __tablename__ = "used_assertions"
    __table_args__ = (
        PrimaryKeyConstraint("client_id", "jti"),
        Index("ix_used_assertions_expires_at", "expires_at"),
    )

    client_id: Mapped[str] = mapped_column(String(64))
    jti: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[int] = mapped_column(BigInteger)
