"""``hub audit search`` and ``hub audit status``: what an auditor types to find disclosures and check the log."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from hub.cli import main
from hub.store import migrate
from hub.store.sealing import new_key_encryption_key
from tests.audit.conftest import enterprise_uscc, fill, make_store, person_id

BEYOND_64_BITS = [2**63, -(2**63) - 1, 2**64, 10**30]


@pytest.fixture
def auditor_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A hub's settings with a log of twelve disclosures sealed every 5, written with the same key."""
    database = tmp_path / "hub.sqlite"
    key = new_key_encryption_key()
    monkeypatch.setenv("HUB_ENV", "production")
    monkeypatch.setenv("HUB_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("HUB_DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    monkeypatch.setenv("HUB_KEY_ENCRYPTION_KEY", key)
    asyncio.run(_twelve(f"sqlite+aiosqlite:///{database}", key))
    return database


async def _twelve(url: str, key: str) -> None:
    store = make_store(url, key, seal_every=5)
    try:
        await migrate(store.engine)
        await fill(store, 12)
    finally:
        await store.engine.dispose()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["audit", *argv])
    return code, capsys.readouterr().out


def test_search_lists_the_newest_first_and_says_how_to_ask_for_more(
    auditor_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "search", "--limit", "3")
    lines = out.splitlines()
    assert code == 0 and [line.split("  ")[0] for line in lines[:3]] == ["seq 12", "seq 11", "seq 10"]
    assert "market/market-a1" in lines[0] and "case CASE-2026-00012" in lines[0] and "subjects: " in lines[0]
    assert lines[3:] == ["3 disclosures", "more may follow: --before 10"]
    code, out = run(capsys, "search", "--limit", "3", "--before", "10")
    assert [line.split("  ")[0] for line in out.splitlines()[:3]] == ["seq 9", "seq 8", "seq 7"]


def test_search_by_subject_shows_that_subjects_fields(
    auditor_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "search", "--subject", enterprise_uscc(2), "--case", "CASE-2026-00007")
    lines = out.splitlines()
    assert code == 0 and lines[-1] == "1 disclosures"
    assert lines[0].startswith("seq 7  ") and lines[0].endswith("fields: legalRep=mask, name=allow")


def test_search_by_person_leaves_no_trace_of_the_number(
    auditor_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "search", "--subject", person_id(1), "--purpose", "许可审批")
    assert code == 0 and out.splitlines()[-1] == "4 disclosures"
    assert person_id(1).encode() not in auditor_env.read_bytes()


def test_search_by_client_and_time_window(auditor_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "search", "--client", "market-a1", "--since", "2000-01-01T00:00:00+08:00")
    assert code == 0 and out.splitlines()[-1] == "12 disclosures"
    code, out = run(capsys, "search", "--client", "taxation-b2")
    assert code == 0 and out.splitlines() == ["0 disclosures"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--limit", "0"], "limit must be a whole number from 1 to 500"),
        (["--limit", "501"], "limit must be a whole number from 1 to 500"),
        (["--before", "0"], "before_seq must be a record's seq"),
        *((["--before", str(number)], "before_seq must be a record's seq") for number in BEYOND_64_BITS),
        *((["--limit", str(number)], "limit must be a whole number from 1 to 500") for number in BEYOND_64_BITS),
        (["--since", "2026-11-26 09:00"], "needs a time with its UTC offset"),
        (["--until", "tomorrow"], "until must be an ISO 8601 time"),
        (["--client", ""], "client_id must be a non-empty string"),
        (["--subject", "12345"], "neither a valid USCC nor a valid ID number"),
    ],
)
def test_search_refuses_bad_criteria_with_exit_two(
    auditor_env: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out = run(capsys, "search", *argv)
    assert code == 2 and out.startswith("hub audit: ") and message in out


def test_a_limit_that_is_not_a_number_is_refused_by_the_parser(
    auditor_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["audit", "search", "--limit", "ten"])
    assert exited.value.code == 2 and "invalid int value" in capsys.readouterr().err


def test_status_of_an_intact_log(auditor_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "status")
    first, second = out.splitlines()
    assert code == 0 and second == "intact"
    assert first.startswith("12 records (last seq 12), 2 seals, last sealed at seq 10 on ")


def test_status_of_a_tampered_log_exits_one_and_counts_by_kind(
    auditor_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with sqlite3.connect(auditor_env) as db:
        db.execute("UPDATE audit_records SET client_id = 'someone-else' WHERE seq = 3")
    code, out = run(capsys, "status")
    assert code == 1 and out.splitlines()[-1] == "TAMPERED: 1 findings (edited 1)"
