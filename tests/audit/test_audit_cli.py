"""``hub audit``: what an auditor types to verify the log, seal it, and ask who saw a subject."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

import pytest

from hub.cli import main
from hub.store import migrate
from hub.store.sealing import new_key_encryption_key
from tests.audit.conftest import disclosure, enterprise_uscc, fill, make_store, person_id


@pytest.fixture
def auditor_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A hub's settings with a log of six disclosures, written by the hub with the same key."""
    database = tmp_path / "hub.sqlite"
    key = new_key_encryption_key()
    monkeypatch.setenv("HUB_ENV", "production")
    monkeypatch.setenv("HUB_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("HUB_DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    monkeypatch.setenv("HUB_KEY_ENCRYPTION_KEY", key)
    asyncio.run(_six(f"sqlite+aiosqlite:///{database}", key))
    return database


async def _six(url: str, key: str) -> None:
    store = make_store(url, key)
    try:
        await migrate(store.engine)
        await fill(store, 6)
    finally:
        await store.engine.dispose()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["audit", *argv])
    return code, capsys.readouterr().out


def test_an_auditor_seals_then_verifies_an_intact_log(
    auditor_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "seal")
    assert code == 0 and out.startswith("sealed seq 6 hash ")
    code, out = run(capsys, "verify")
    assert code == 0
    assert out.splitlines() == ["6 records (last seq 6), 1 seals", "intact"]


def test_an_auditor_checks_only_what_was_added_since_the_last_seal(
    auditor_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "seal")
    assert code == 0
    asyncio.run(_more(auditor_env))
    code, out = run(capsys, "verify", "--since-last-seal")
    assert code == 0 and out.splitlines() == ["from the seal at seq 6:", "3 records (last seq 9), 1 seals", "intact"]
    with sqlite3.connect(auditor_env) as db:
        db.execute("UPDATE audit_records SET department = 'security' WHERE seq = 8")
    code, out = run(capsys, "verify", "--since-seal", "6")
    assert code == 1 and "seq 8: edited" in out
    code, out = run(capsys, "verify", "--since-seal", "5")
    assert code == 2 and out.startswith("hub audit: there is no seal at seq 5")


def test_since_the_last_seal_with_no_seal_yet_says_it_checks_the_whole_log(
    auditor_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "verify", "--since-last-seal")
    assert code == 0
    assert out.splitlines() == [
        "no seal yet: checking the whole log (hub audit seal makes one)", "6 records (last seq 6), 0 seals", "intact",
    ]


async def _more(database: Path) -> None:
    store = make_store(f"sqlite+aiosqlite:///{database}", os.environ["HUB_KEY_ENCRYPTION_KEY"])
    try:
        for n in range(7, 10):
            await store.append(disclosure(store, n))
    finally:
        await store.engine.dispose()


def test_verify_exits_one_and_names_each_tampered_record(
    auditor_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with sqlite3.connect(auditor_env) as db:
        db.execute("UPDATE audit_records SET department = 'security' WHERE seq = 2")
    code, out = run(capsys, "verify")
    assert code == 1
    assert "  seq 2: edited: the record's content does not hash to its recorded hash" in out
    assert out.splitlines()[-1] == "TAMPERED: 1 findings"


def test_verify_with_another_key_encryption_key_trusts_nothing(
    auditor_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_KEY_ENCRYPTION_KEY", new_key_encryption_key())
    code, out = run(capsys, "verify")
    assert code == 1 and "inserted" in out


def test_who_lists_each_disclosure_of_an_enterprise(
    auditor_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "who", enterprise_uscc(1))
    lines = out.splitlines()
    assert code == 0 and lines[-1] == "2 disclosures"
    assert "market/market-a1" in lines[0] and "case CASE-2026-00001" in lines[0]
    assert "purpose 许可审批" in lines[0] and "fields: legalRep=mask, name=allow" in lines[0]


def test_who_finds_a_person_by_id_number_without_it_being_stored(
    auditor_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "who", person_id(2))
    assert code == 0 and out.splitlines()[-1] == "2 disclosures"
    assert person_id(2).encode() not in auditor_env.read_bytes()


def test_who_refuses_what_is_neither_a_uscc_nor_an_id_number(
    auditor_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "who", "12345")
    assert code == 2 and "neither a valid USCC nor a valid ID number" in out
