"""The accounts' tables: accounts, the clients a developer may act for, console sessions (migration 0006);
failed sign-ins per address (0009); the language each account reads the console in (0013)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.models import Base


class AccountRow(Base):
    __tablename__ = "accounts"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    department: Mapped[str | None] = mapped_column(ForeignKey("departments.name"), nullable=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    totp_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The last TOTP time step accepted: a code is good once (RFC 6238 section 5.2).
    totp_last_step: Mapped[int] = mapped_column(BigInteger, default=0)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[int] = mapped_column(BigInteger)
    # "zh" (Simplified Chinese, the default) or "en": hub/admin/i18n.py.
    language: Mapped[str] = mapped_column(String(8), default="zh", server_default="zh")


class AccountClientRow(Base):
    __tablename__ = "account_clients"
    __table_args__ = (PrimaryKeyConstraint("username", "client_id"),)

    username: Mapped[str] = mapped_column(ForeignKey("accounts.username", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.client_id", ondelete="CASCADE"))


class SessionRow(Base):
    __tablename__ = "admin_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("accounts.username", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(16))  # totp (second factor due) | full
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)
    last_seen: Mapped[int] = mapped_column(BigInteger, index=True)


class SignInFailureRow(Base):
    __tablename__ = "console_signin_failures"
    __table_args__ = (
        Index("ix_console_signin_failures_address_at", "address", "at"),
        Index("ix_console_signin_failures_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[int] = mapped_column(BigInteger)
