"""``hub admin`` for the first operator and recovery, and the demo's accounts (``make run``)."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest

from hub.accounts.store import Accounts
from hub.demo.accounts import DEMO_PEOPLE, create_demo_accounts
from hub.cli import main
from hub.commands.registry import register_demo_clients
from hub.settings import load_settings
from hub.store import connect


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HUB_ENV", "development")
    monkeypatch.setenv("HUB_STATE_DIR", str(tmp_path))
    return tmp_path


def _run(monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(list(argv))


async def _account(state: Path, username: str):  # type: ignore[no-untyped-def]
    engine = connect(load_settings().registry_url)
    try:
        return await Accounts(engine).get(username), await Accounts(engine).sign_in(username, "a new long password")
    finally:
        await engine.dispose()


def test_the_first_operator_is_created_and_given_a_password_and_totp_from_the_command_line(
    state: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(monkeypatch, "admin", "create-account", "root", "--role", "operator", "--password-stdin",
                stdin="a first long password\n") == 0
    assert _run(monkeypatch, "admin", "set-password", "root", "--password-stdin", stdin="a new long password\n") == 0
    assert _run(monkeypatch, "admin", "totp-enable", "root") == 0
    assert "otpauth://totp/" in capsys.readouterr().out
    import asyncio

    account, signed_in = asyncio.run(_account(state, "root"))
    assert account.role == "operator" and account.totp_enabled and signed_in is not None


def test_the_command_refuses_bad_accounts_and_short_passwords(
    state: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(monkeypatch, "admin", "create-account", "root", "--role", "operator", "--password-stdin",
                stdin="short\n") == 1
    assert "at least 12 characters" in capsys.readouterr().err
    assert _run(monkeypatch, "admin", "create-account", "st", "--role", "steward", "--password-stdin",
                stdin="a first long password\n") == 1
    assert "belong to a department" in capsys.readouterr().err
    assert _run(monkeypatch, "admin", "set-password", "nobody", "--password-stdin",
                stdin="a first long password\n") == 1
    assert capsys.readouterr().err == "hub admin: not found: no account 'nobody'\n"
    assert _run(monkeypatch, "admin", "disable", "nobody") == 1
    assert capsys.readouterr().err == "hub admin: not found: no account 'nobody'\n"
    assert _run(monkeypatch, "admin", "disable", "No Body") == 1
    refused = capsys.readouterr().err
    assert refused.startswith("hub admin: a username is 2-64") and "not found" not in refused


def test_the_demo_has_one_account_per_role_and_keeps_their_passwords_across_runs(state: Path) -> None:
    settings = load_settings()
    register_demo_clients(settings, state / "clients")
    path = state / "accounts.txt"
    first = create_demo_accounts(settings, path)
    assert {a.role for a in first} == {"operator", "steward", "auditor", "developer"}
    assert {a.username for a in first} == set(DEMO_PEOPLE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert create_demo_accounts(settings, path) == first
    for account in first:
        assert account.username in path.read_text() and account.password in path.read_text()
    path.unlink()  # lost: the accounts stay and get new passwords
    again = create_demo_accounts(settings, path)
    assert [a.password for a in again] != [a.password for a in first]
