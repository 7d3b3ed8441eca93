"""The operator's changes to console accounts, one service for the console and ``hub admin`` alike.

Accounts are the operator's: anyone else gets ``Forbidden`` before anything is read. Input is
checked by the store (``hub.accounts.store``: username, role, department, clients) and the
credentials (``hub.accounts.credentials``: password length), each refusal a kind of ``BadInput``,
a username or OpenID Connect subject taken a ``Conflict``, the account a change is made to
``NotFound`` when it is not there.
Every change writes its admin-log entry, in the actor's name, in the change's own transaction
(``hub.store.admin_log``): a change is never made without its entry, and an entry that cannot be
written undoes the change. Ending the account's console sessions after a change is the caller's
(the console's sessions are its own).
"""

from __future__ import annotations

from typing import Any

from hub.accounts.oidc_links import OidcLinks
from hub.accounts.store import Account, Accounts
from hub.errors import Forbidden
from hub.grants import Actor
from hub.store.admin_log import Noted, noting


class AccountService:
    """``why`` goes on every entry this service writes (the CLI names itself: ``hub admin``);
    ``links`` are the OpenID Connect identities that sign in as accounts."""

    def __init__(self, accounts: Accounts, links: OidcLinks, *, why: str | None = None) -> None:
        self.accounts = accounts
        self.links = links
        self.why = why

    async def create(
        self, actor: Actor, username: str, display_name: str, role: str, password: str,
        department: str | None = None, clients: frozenset[str] = frozenset(),
    ) -> Account:
        """A new account with a first password, for the person to change at the console."""
        details = {"role": role, "department": department, "clients": sorted(clients)}
        noted = self._noted(actor, "account.create", details)
        return await self.accounts.create(username, display_name, role, password, department, clients, noted=noted)

    async def set_password(self, actor: Actor, username: str, password: str) -> None:
        """A forgotten password replaced (the lock, if any, lifted)."""
        await self.accounts.set_password(username, password, noted=self._noted(actor, "account.password_set"))

    async def set_totp(self, actor: Actor, username: str, secret: str | None) -> None:
        """A new TOTP secret for the account, or none (a password only)."""
        action = "account.totp_enabled" if secret is not None else "account.totp_disabled"
        await self.accounts.set_totp(username, secret, noted=self._noted(actor, action))

    async def set_disabled(self, actor: Actor, username: str, disabled: bool) -> None:
        action = "account.disable" if disabled else "account.enable"
        await self.accounts.set_disabled(username, disabled, noted=self._noted(actor, action))

    async def link_oidc(self, actor: Actor, issuer: str, subject: str, username: str) -> None:
        """The identity ``subject`` at ``issuer`` signs in as ``username`` from now on."""
        noted = self._noted(actor, "account.oidc_link", {"issuer": issuer, "subject": subject})
        await self.links.link(issuer, subject, username, noted=noted)

    async def unlink_oidc(self, actor: Actor, issuer: str, subject: str) -> bool:
        """False when the identity was not linked (nothing is written then)."""
        noted = self._noted(actor, "account.oidc_unlink", {"issuer": issuer, "subject": subject})
        return await self.links.unlink(issuer, subject, noted=noted)

    def _noted(self, actor: Actor, action: str, details: dict[str, Any] | None = None) -> Noted:
        may_change(actor)
        return noting(actor.username, actor.role, lambda username: (action, username, details or {}), why=self.why)


def may_change(actor: Actor) -> None:
    if actor.role != "operator":
        of = f" of {actor.department}" if actor.department else ""
        raise Forbidden(f"{actor.username} ({actor.role}{of}) may not change console accounts: only the operator may")
