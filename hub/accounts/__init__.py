"""Console accounts: who may sign in to the console, with which role, for which department.

- ``Accounts`` (``store``): the accounts, their clients (developers), sign-in with the lockout,
  the second factor; ``AccountError`` for an account that cannot be as asked;
- ``credentials``: Argon2 password hashes and TOTP codes (``CredentialError``);
- ``AccountService`` (``service``): the operator's changes, for the console and ``hub admin``
  alike, each taking the acting person (``hub.grants.Actor``) and writing its admin-log entry in
  the change's transaction;
- ``oidc_links``: which OpenID Connect identity signs in as which account;
- ``tables``: the accounts' tables, their console sessions and failed sign-ins.
"""

from __future__ import annotations

from hub.accounts.service import AccountService
from hub.accounts.store import ROLES, Account, AccountError, Accounts

__all__ = ["ROLES", "Account", "AccountError", "AccountService", "Accounts"]
