"""``hub registry``: what an operator types to register departments and clients and rotate keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub.cli import main
from hub.store.signing_keys import new_key_pair


@pytest.fixture
def operator_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HUB_ENV", "development")
    monkeypatch.setenv("HUB_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("HUB_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}")
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """The exit code and what was said: standard output, or standard error for a refusal."""
    code = main(["registry", *argv])
    said = capsys.readouterr()
    if code:
        assert said.out == "" and said.err.startswith("hub registry: "), said
        return code, said.err
    return code, said.out


def test_an_operator_registers_lists_disables_and_re_enables_a_client(
    operator_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jwk_file = operator_env / "system.pub.json"
    jwk_file.write_text(json.dumps(new_key_pair()[0]))
    assert run(capsys, "add-department", "market", "--title", "Market Regulation")[0] == 0
    code, out = run(
        capsys,
        "add-client",
        "market",
        "licensing",
        "--jwk",
        str(jwk_file),
    )
    client_id = out.strip()
    assert code == 0 and client_id.startswith("market-")
    assert client_id in run(capsys, "list")[1]
    assert run(capsys, "disable", client_id) == (0, f"{client_id} is disabled\n")
    assert run(capsys, "enable", client_id) == (0, f"{client_id} is active\n")


def test_an_operator_disables_and_re_enables_a_department(
    operator_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "add-department", "market", "--title", "Market Regulation")[0] == 0
    assert run(capsys, "disable-department", "market") == (0, "department market is disabled\n")
    assert "market: Market Regulation  (disabled)" in run(capsys, "list")[1]
    assert run(capsys, "enable-department", "market") == (0, "department market is active\n")
    code, out = run(capsys, "disable-department", "nowhere")
    assert (code, out) == (1, "hub registry: not found: no department 'nowhere'\n")


def test_what_a_command_acts_on_is_not_found_when_not_there_and_refused_when_malformed(
    operator_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "add-department", "market", "--title", "Market Regulation")
    for argv in (("disable", "market-0000"), ("set-limits", "market-0000", "--defaults"),
                 ("remove-key", "market-0000", "k1")):
        assert run(capsys, *argv) == (1, "hub registry: not found: no client 'market-0000'\n"), argv
    for argv in (("disable", "nobody"), ("set-limits", "'; --", "--defaults"), ("disable-department", "Market!")):
        code, out = run(capsys, *argv)
        assert code == 1 and "not found" not in out and ("is not a client id" in out or "2-40" in out), argv


def test_a_jwk_file_with_private_members_is_refused(
    operator_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    leaky = {**new_key_pair()[0], "d": "AAAA"}
    (operator_env / "leaky.json").write_text(json.dumps(leaky))
    run(capsys, "add-department", "market", "--title", "Market Regulation")
    code, out = run(capsys, "add-client", "market", "leaky", "--jwk", str(operator_env / "leaky.json"))
    assert code == 1 and "private members" in out


def test_scopes_at_registration_are_refused_with_a_pointer_to_grants(
    operator_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (operator_env / "k.json").write_text(json.dumps(new_key_pair()[0]))
    run(capsys, "add-department", "market", "--title", "Market Regulation")
    code, out = run(
        capsys, "add-client", "market", "s", "--jwk", str(operator_env / "k.json"), "--scope", "market.enterprise:read"
    )
    assert code == 1 and "hub grants grant" in out
    assert "market-" not in run(capsys, "list")[1]  # nothing registered


def test_a_department_is_registered_with_its_jurisdiction_or_refused_with_a_bad_one(
    operator_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "add-department", "ecology", "--title", "Ecology", "--jurisdiction", "1302")
    assert code == 0 and out == "department ecology (Ecology, jurisdiction 1302) registered\n"
    code, out = run(capsys, "add-department", "housing", "--title", "Housing", "--jurisdiction", "13O2")
    assert code == 1 and "GB/T 2260 prefix" in out


def test_client_and_signing_keys_rotate_from_the_command_line(
    operator_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = new_key_pair()[0], new_key_pair()[0]
    (operator_env / "old.json").write_text(json.dumps(old))
    (operator_env / "new.json").write_text(json.dumps(new))
    run(capsys, "add-department", "market", "--title", "Market Regulation")
    client_id = run(capsys, "add-client", "market", "s", "--jwk", str(operator_env / "old.json"))[1].strip()
    assert new["kid"] in run(capsys, "add-key", client_id, "--jwk", str(operator_env / "new.json"))[1]
    code, out = run(capsys, "remove-key", client_id, "--", old["kid"])  # a kid may begin with "-"
    assert code == 0 and old["kid"] not in out and new["kid"] in out
    assert "is now active" in run(capsys, "rotate-signing-keys")[1]


def test_keygen_writes_a_private_key_and_its_public_half(
    operator_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["registry", "keygen", str(operator_env / "sys.json")]) == 0
    private = json.loads((operator_env / "sys.json").read_text())
    public = json.loads((operator_env / "sys.pub.json").read_text())
    assert "d" in private and "d" not in public and public["kid"] == private["kid"]
    assert (operator_env / "sys.json").stat().st_mode & 0o077 == 0


def test_the_demo_registers_one_client_per_department_once(operator_env: Path) -> None:
    from hub.commands.registry import register_demo_clients
    from hub.settings import load_settings

    settings = load_settings(environment="development", state_dir=operator_env)
    written = register_demo_clients(settings, operator_env / "clients")
    assert sorted(p.stem for p in written) == [
        "centre",
        "ecology",
        "housing",
        "market",
        "security",
        "taxation",
    ]
    market = json.loads((operator_env / "clients" / "market.json").read_text())
    assert market["client_id"].startswith("market-") and "d" in market["private_jwk"]
    assert "market.enterprise:read" in market["scope"].split()
    assert register_demo_clients(settings, operator_env / "clients") == []


def test_set_scopes_is_gone_and_points_the_operator_at_grants(
    operator_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (operator_env / "k.json").write_text(json.dumps(new_key_pair()[0]))
    run(capsys, "add-department", "market", "--title", "Market Regulation")
    client_id = run(capsys, "add-client", "market", "s", "--jwk", str(operator_env / "k.json"))[1].strip()
    code, out = run(capsys, "set-scopes", client_id, "--scope", "market.person:read")
    assert code == 1 and "hub grants grant" in out
    assert "granted now: (none)" in run(capsys, "list")[1]


def test_keygen_creates_the_private_key_owner_only_never_chmods_it_afterwards(
    operator_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Created 0600 in one step (no window where another user can read it), whatever the umask."""
    import os

    monkeypatch.setattr(Path, "chmod", lambda self, mode: None)  # a later chmod does not count
    previous = os.umask(0)
    try:
        assert main(["registry", "keygen", str(operator_env / "sys.json")]) == 0
    finally:
        os.umask(previous)
    assert (operator_env / "sys.json").stat().st_mode & 0o077 == 0
    capsys.readouterr()
    assert main(["registry", "keygen", str(operator_env / "sys.json")]) == 1  # never overwritten
    assert "exists" in capsys.readouterr().out


async def test_the_registry_url_is_printed_without_its_password() -> None:
    import argparse
    import contextlib
    import io

    from hub.commands.registry import _migrate
    from hub.settings import load_settings

    class Keys:
        async def ensure(self) -> None:
            return None

    settings = load_settings(environment="development", database_url="postgresql+asyncpg://hub:hunter2@db/hub")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert await _migrate(argparse.Namespace(), settings, None, lambda: Keys()) == 0  # type: ignore[arg-type]
    assert "hunter2" not in printed.getvalue() and "hub:***@db/hub" in printed.getvalue()


def test_every_change_made_at_the_terminal_is_on_the_admin_log_by_the_operator_named(
    operator_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    import io

    from hub.settings import load_settings
    from hub.store import connect
    from hub.store.admin_log import admin_actions

    jwk_file = operator_env / "system.pub.json"
    jwk_file.write_text(json.dumps(new_key_pair()[0]))
    assert run(capsys, "--as", "wang", "add-department", "market", "--title", "Market Regulation")[0] == 0
    added = run(capsys, "--as", "wang", "add-client", "market", "licensing", "--jwk", str(jwk_file))
    client_id = added[1].strip()
    assert run(capsys, "--as", "wang", "disable", client_id)[0] == 0
    assert run(capsys, "--as", "wang", "disable-department", "market")[0] == 0
    assert run(capsys, "add-department", "market", "--title", "Again")[0] == 1  # refused: nothing logged
    rotated = run(capsys, "--as", "wang", "rotate-signing-keys")[1].split()[2]
    monkeypatch.setattr("sys.stdin", io.StringIO("a first long password\n"))
    assert main(["admin", "--as", "li", "create-account", "root", "--role", "operator",
                 "--password-stdin"]) == 0
    assert main(["admin", "--as", "li", "disable", "root"]) == 0

    async def log() -> list[tuple[str, str, str, str, str | None]]:
        engine = connect(load_settings().registry_url)
        try:
            found = await admin_actions(engine, limit=50)
        finally:
            await engine.dispose()
        return [(a.actor, a.role, a.action, a.target, a.why) for a in reversed(found)]

    assert asyncio.run(log()) == [
        ("wang", "operator", "department.register", "market", "hub registry"),
        ("wang", "operator", "client.register", client_id, "hub registry"),
        ("wang", "operator", "client.block", client_id, "hub registry"),
        ("wang", "operator", "department.block", "market", "hub registry"),
        ("wang", "operator", "signing_key.rotate", rotated, "hub registry"),
        ("li", "operator", "account.create", "root", "hub admin"),
        ("li", "operator", "account.disable", "root", "hub admin"),
    ]
