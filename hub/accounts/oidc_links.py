"""Which OpenID Connect identity may sign in as which console account (migration 0008).

The operator links an identity, (issuer, the value of the configured claim), to an existing account
(``hub admin link-oidc``). Nothing is provisioned from claims: an identity with no link signs in to
nothing, and the account's role and department stay what the operator gave it.
"""

from __future__ import annotations

import time

from sqlalchemy import BigInteger, ForeignKey, PrimaryKeyConstraint, String, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from hub.accounts.store import AccountError, checked_username
from hub.accounts.tables import AccountRow
from hub.errors import Conflict, NotFound
from hub.store.admin_log import Noted
from hub.store.models import Base


class OidcLinkRow(Base):
    __tablename__ = "console_oidc_links"
    __table_args__ = (PrimaryKeyConstraint("issuer", "subject"),)

    issuer: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(255))
    username: Mapped[str] = mapped_column(ForeignKey("accounts.username", ondelete="CASCADE"), index=True)
    created_at: Mapped[int] = mapped_column(BigInteger)


class OidcLinks:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def link(self, issuer: str, subject: str, username: str, noted: Noted | None = None) -> None:
        if not subject or len(subject) > 255:
            raise AccountError("an OpenID Connect subject has 1 to 255 characters")
        async with self._sessions.begin() as session:
            if await session.get(AccountRow, checked_username(username)) is None:
                raise NotFound(f"no account {username!r}")
            found = await session.get(OidcLinkRow, (issuer, subject))
            if found is not None:
                raise Conflict(f"{subject!r} at {issuer} is already linked to {found.username!r}")
            now = int(time.time())
            session.add(OidcLinkRow(issuer=issuer, subject=subject, username=username, created_at=now))
            if noted is not None:
                await session.flush()
                await noted(session, username)

    async def unlink(self, issuer: str, subject: str, noted: Noted | None = None) -> bool:
        async with self._sessions.begin() as session:
            found = await session.get(OidcLinkRow, (issuer, subject))
            if found is None:
                return False
            await session.delete(found)
            if noted is not None:
                await session.flush()
                await noted(session, found.username)
        return True

    async def account_for(self, issuer: str, subject: str) -> str | None:
        async with self._sessions.begin() as session:
            found = await session.get(OidcLinkRow, (issuer, subject))
            return found.username if found is not None else None

    async def of(self, username: str) -> list[tuple[str, str]]:
        async with self._sessions.begin() as session:
            rows = await session.scalars(select(OidcLinkRow).where(OidcLinkRow.username == username))
            return [(row.issuer, row.subject) for row in rows]
