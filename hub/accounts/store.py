"""Console accounts: who signs in, with which role, for which department, and the lockout.

Roles: ``operator`` (the registry), ``steward`` (one department's data), ``auditor`` (reads, never
changes), ``developer`` (acts for the clients listed for them). Stewards and developers belong to a
department. After ``FREE_FAILURES`` wrong passwords or codes in a row an account is locked for a
while that doubles with each further failure (at most ``MAX_LOCK``); a success resets the count.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.accounts.credentials import hash_password, password_matches, totp_step
from hub.accounts.tables import AccountClientRow, AccountRow
from hub.errors import BadInput, Conflict, NotFound
from hub.store.admin_log import Noted
from hub.store.models import Client, Department

ROLES = ("operator", "steward", "auditor", "developer")
LANGUAGES = ("zh", "en")  # what the console speaks; its catalogues are hub/admin/locale/
DEPARTMENT_ROLES = ("steward", "developer")
FREE_FAILURES = 5
FIRST_LOCK = 30
MAX_LOCK = 15 * 60
_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")


class AccountError(BadInput):
    """An account change that cannot be made; the message says why.

    The account a change is made to, when it is not there, is ``NotFound`` instead; a department or
    client the input names is this (docs/architecture.md, "The error tree").
    """


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    display_name: str
    role: str
    department: str | None
    clients: frozenset[str]
    totp_enabled: bool
    disabled: bool
    language: str = "zh"


def _account(row: AccountRow, clients: list[str]) -> Account:
    return Account(
        row.username, row.display_name, row.role, row.department, frozenset(clients),
        row.totp_secret is not None, row.disabled, row.language or "zh",
    )


def lock_seconds(failures: int) -> int:
    """How long an account stays locked after ``failures`` failures in a row."""
    if failures < FREE_FAILURES:
        return 0
    doubled: int = FIRST_LOCK * 2 ** (failures - FREE_FAILURES)  # failures >= FREE_FAILURES: a whole number
    return min(doubled, MAX_LOCK)


class Accounts:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def create(
        self, username: str, display_name: str, role: str, password: str,
        department: str | None = None, clients: frozenset[str] = frozenset(), noted: Noted | None = None,
    ) -> Account:
        _check_shape(username, role, department, clients)
        password_hash = hash_password(password)
        async with self._sessions.begin() as session:
            if await session.get(AccountRow, username) is not None:
                raise Conflict(f"account {username!r} exists")
            if department is not None and await session.get(Department, department) is None:
                raise AccountError(f"no department {department!r}")
            session.add(AccountRow(
                username=username, display_name=display_name or username, role=role, department=department,
                password_hash=password_hash, totp_secret=None, totp_last_step=0, disabled=False,
                failed_attempts=0, locked_until=0, created_at=int(time.time()),
            ))
            await session.flush()
            await _set_clients(session, username, department, clients)
            if noted is not None:
                await noted(session, username)
        return await self._get(username)

    async def get(self, username: str) -> Account | None:
        async with self._sessions() as session:
            row = await session.get(AccountRow, username)
            return _account(row, await _clients(session, username)) if row is not None else None

    async def all(self) -> list[Account]:
        async with self._sessions() as session:
            rows = list(await session.scalars(select(AccountRow).order_by(AccountRow.username)))
            return [_account(row, await _clients(session, row.username)) for row in rows]

    async def set_password(self, username: str, password: str, noted: Noted | None = None) -> None:
        password_hash = hash_password(password)
        async with self._sessions.begin() as session:
            row = await _row(session, username)
            row.password_hash, row.failed_attempts, row.locked_until = password_hash, 0, 0
            if noted is not None:
                await noted(session, username)

    async def set_disabled(self, username: str, disabled: bool, noted: Noted | None = None) -> None:
        async with self._sessions.begin() as session:
            (await _row(session, username)).disabled = disabled
            if noted is not None:
                await noted(session, username)

    async def set_language(self, username: str, language: str) -> None:
        """The language the console speaks to this account (one of ``LANGUAGES``)."""
        if language not in LANGUAGES:
            raise AccountError(f"language must be one of {', '.join(LANGUAGES)}")
        async with self._sessions.begin() as session:
            (await _row(session, username)).language = language

    async def set_totp(
        self, username: str, secret: str | None, used_step: int = 0, noted: Noted | None = None
    ) -> None:
        """Sets (or clears) the TOTP secret; ``used_step`` is the step of a code already shown, which
        then cannot pass the next sign-in."""
        async with self._sessions.begin() as session:
            row = await _row(session, username)
            row.totp_secret, row.totp_last_step = secret, used_step
            if noted is not None:
                await noted(session, username)

    async def sign_in(self, username: str, password: str, now: int | None = None) -> Account | None:
        """The account if the password is right and the account usable; a failure counts towards the lock."""
        now = int(time.time()) if now is None else now
        async with self._sessions.begin() as session:
            row = await session.get(AccountRow, username)
            if row is None or row.disabled or row.locked_until > now:
                password_matches(None, password)  # the same cost as a real check
                return None
            if not password_matches(row.password_hash, password):
                _failed(row, now)
                return None
            row.failed_attempts = 0 if row.totp_secret is None else row.failed_attempts
            return _account(row, await _clients(session, username))

    async def second_factor(self, username: str, code: str, now: int | None = None) -> bool:
        """True once per right code (replays refused); a wrong code counts towards the lock."""
        now = int(time.time()) if now is None else now
        async with self._sessions.begin() as session:
            row = await session.get(AccountRow, username)
            if row is None or row.disabled or row.locked_until > now or row.totp_secret is None:
                return False
            step = totp_step(row.totp_secret, code, row.totp_last_step, now)
            if step is None:
                _failed(row, now)
                return False
            row.totp_last_step, row.failed_attempts = step, 0
            return True

    async def _get(self, username: str) -> Account:
        account = await self.get(username)
        assert account is not None
        return account


def _failed(row: AccountRow, now: int) -> None:
    row.failed_attempts += 1
    row.locked_until = now + lock_seconds(row.failed_attempts) if lock_seconds(row.failed_attempts) else 0


def checked_username(username: str) -> str:
    """A username an account could have: anything else is bad input, never looked up."""
    if not _USERNAME.match(username):
        raise AccountError(
            "a username is 2-64 lower-case letters, digits, '.', '_' or '-', starting with a letter"
        )
    return username


def _check_shape(username: str, role: str, department: str | None, clients: frozenset[str]) -> None:
    checked_username(username)
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if (department is not None) != (role in DEPARTMENT_ROLES):
        raise AccountError("stewards and developers belong to a department; operators and auditors do not")
    if clients and role != "developer":
        raise AccountError("only a developer acts for clients")


async def _row(session: AsyncSession, username: str) -> AccountRow:
    row = await session.get(AccountRow, checked_username(username))
    if row is None:
        raise NotFound(f"no account {username!r}")
    return row


async def _clients(session: AsyncSession, username: str) -> list[str]:
    query = select(AccountClientRow.client_id).where(AccountClientRow.username == username)
    return list(await session.scalars(query.order_by(AccountClientRow.client_id)))


async def _set_clients(
    session: AsyncSession, username: str, department: str | None, clients: frozenset[str]
) -> None:
    """A developer acts only for clients of their own department."""
    await session.execute(delete(AccountClientRow).where(AccountClientRow.username == username))
    for client_id in sorted(clients):
        client = await session.get(Client, client_id)
        if client is None or client.department != department:
            raise AccountError(f"no client {client_id!r} in department {department!r}")
        session.add(AccountClientRow(username=username, client_id=client_id))
