"""The account and session stores on their own: expiry, rotation, lockout times, account shapes."""

from __future__ import annotations

import pytest

from hub.accounts.store import FREE_FAILURES, MAX_LOCK, AccountError, lock_seconds
from hub.accounts.credentials import CredentialError
from hub.admin.sessions import FULL, Sessions
from hub.errors import Conflict
from tests.admin.conftest import PASSWORD, Console


def sessions_of(console: Console, idle: int = 60, absolute: int = 600) -> Sessions:
    return Sessions(console.registry.engine, idle=idle, absolute=absolute)


async def test_a_session_ends_after_its_idle_time_without_requests(console: Console) -> None:
    sessions = sessions_of(console)
    token, opened = await sessions.open("olga", FULL)
    now = 10**10
    assert await sessions.find(token) == opened
    assert await sessions.find(token, now=now) is None
    assert await sessions.find(token) is None  # and it is gone from the database


async def test_a_session_in_use_still_ends_at_its_absolute_time(console: Console) -> None:
    sessions = sessions_of(console, idle=10**9, absolute=1)
    token, _ = await sessions.open("olga", FULL)
    import time

    assert await sessions.find(token, now=int(time.time()) + 2) is None


async def test_opening_a_session_ends_the_one_it_replaces(console: Console) -> None:
    sessions = sessions_of(console)
    old, _ = await sessions.open("olga", FULL)
    new, _ = await sessions.open("olga", FULL, replacing=old)
    assert await sessions.find(old) is None and await sessions.find(new) is not None


async def test_only_a_hash_of_the_session_token_is_stored(console: Console) -> None:
    from sqlalchemy import text

    token, _ = await sessions_of(console).open("olga", FULL)
    async with console.registry.engine.connect() as conn:
        stored = [row[0] for row in await conn.execute(text("SELECT token_hash FROM admin_sessions"))]
    assert token not in stored and len(stored) == 1 and len(stored[0]) == 64


def test_the_lock_doubles_after_the_free_failures_up_to_a_ceiling() -> None:
    assert lock_seconds(FREE_FAILURES - 1) == 0
    assert lock_seconds(FREE_FAILURES) == 30 and lock_seconds(FREE_FAILURES + 1) == 60
    assert lock_seconds(FREE_FAILURES + 20) == MAX_LOCK


async def test_a_locked_account_opens_again_once_its_wait_is_over(console: Console) -> None:
    import time

    now = int(time.time())
    for _ in range(FREE_FAILURES):
        assert await console.accounts.sign_in("mei", "wrong", now=now) is None
    assert await console.accounts.sign_in("mei", PASSWORD, now=now + 29) is None
    assert await console.accounts.sign_in("mei", PASSWORD, now=now + 31) is not None


@pytest.mark.parametrize(("username", "role", "department", "message"), [
    ("Bad Name", "operator", None, "a username is"),
    ("x", "operator", None, "a username is"),
    ("zed", "king", None, "role must be one of"),
    ("zed", "steward", None, "belong to a department"),
    ("zed", "operator", "market", "belong to a department"),
    ("zed", "steward", "nowhere", "no department"),
])
async def test_an_account_of_the_wrong_shape_is_refused(
    console: Console, username: str, role: str, department: str | None, message: str
) -> None:
    with pytest.raises(AccountError, match=message):
        await console.accounts.create(username, "", role, PASSWORD, department)


async def test_a_username_is_taken_once(console: Console) -> None:
    with pytest.raises(Conflict, match="account 'olga' exists"):
        await console.accounts.create("olga", "", "operator", PASSWORD)


async def test_a_developer_acts_only_for_clients_of_their_own_department(console: Console) -> None:
    with pytest.raises(AccountError, match="no client"):
        await console.accounts.create("dev2", "", "developer", PASSWORD, "market", frozenset({console.ecology_client}))
    with pytest.raises(AccountError, match="only a developer"):
        await console.accounts.create("st2", "", "steward", PASSWORD, "market", frozenset({console.market_client}))


async def test_a_short_password_is_refused(console: Console) -> None:
    with pytest.raises(CredentialError, match="at least 12"):
        await console.accounts.create("zed", "", "auditor", "short")
    with pytest.raises(CredentialError):
        await console.accounts.set_password("olga", "short")
