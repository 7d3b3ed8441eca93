"""``hub registry set-limits`` and ``hub grants set-quota``: what the operator types, what it prints,
and the admin log entry each change writes in its transaction."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from hub.cli import main
from tests.grants.test_cli import asking, client_id, grants  # noqa: F401  (client_id is a fixture)


def registry(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """The exit code and what was said: standard output, or standard error for a refusal."""
    code = main(["registry", "--as", "olga", *argv])
    said = capsys.readouterr()
    if code:
        assert said.out == "" and said.err.startswith("hub registry: "), said
        return code, said.err
    return code, said.out


def details(tmp_path: Path, action: str) -> list[dict[str, Any]]:
    """The admin log entries' details, oldest first, as stored."""
    with sqlite3.connect(tmp_path / "hub.sqlite") as conn:
        rows = conn.execute("SELECT details FROM admin_actions WHERE action = ? ORDER BY id", (action,))
        return [json.loads(row[0]) for row in rows]


def test_the_operator_sets_a_client_s_limits_and_puts_it_back_on_the_defaults(
    client_id: str, capsys: pytest.CaptureFixture[str], tmp_path: Path  # noqa: F811
) -> None:
    code, out = registry(capsys, "set-limits", client_id, "--rate", "2.5", "--burst", "10", "--cost-per-minute", "9000")
    assert (code, out) == (0, f"{client_id}: its own: 2.5 requests/s, bursts of 10, cost 9000/minute, unlimited/day\n")
    code, out = registry(capsys, "set-limits", client_id, "--defaults")
    assert code == 0 and out.startswith(f"{client_id}: the settings' defaults: 50 requests/s, bursts of 200")
    log = grants(capsys, "log", "--action", "client.limits", "--target", client_id)[1].splitlines()
    assert len(log) == 2 and all("olga (operator)" in line for line in log)
    assert details(tmp_path, "client.limits") == [
        {"limits": {"rate": 2.5, "burst": 10, "cost_per_minute": 9000, "cost_per_day": 0}}, {"limits": None},
    ]


@pytest.mark.parametrize(("argv", "message"), [
    (["--rate", "0", "--burst", "10"], "rate must be above 0"),
    (["--rate", "5", "--burst", "0"], "burst must be 1-1000000"),
    (["--rate", "5", "--burst", "5", "--cost-per-day", "-1"], "cost_per_day must be 0"),
    (["--rate", "5"], "name --rate and --burst (or --defaults)"),
])
def test_bad_limits_are_refused_with_the_reason_and_change_nothing(
    client_id: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str  # noqa: F811
) -> None:
    code, out = registry(capsys, "set-limits", client_id, *argv)
    assert code == 1 and message in out
    assert grants(capsys, "log", "--action", "client.limits")[1] == ""


def test_limits_for_an_unknown_client_are_refused(client_id: str, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    code, out = registry(capsys, "set-limits", "centre-nobody", "--rate", "1", "--burst", "1")
    assert code == 1 and "no client 'centre-nobody'" in out


def test_the_data_owner_sets_and_lifts_a_grant_s_disclosure_quota(
    client_id: str, capsys: pytest.CaptureFixture[str], tmp_path: Path  # noqa: F811
) -> None:
    grant_id = grants(capsys, "grant", client_id, *asking("market.enterprise:read"))[1].split()[0]
    code, out = grants(capsys, "set-quota", grant_id, "--subjects-per-day", "2000", "--reason", "batch checks")
    assert (code, out) == (0, f"{grant_id}: at most 2000 subjects a day per scope\n")
    assert grants(capsys, "set-quota", grant_id, "--none")[1] == f"{grant_id}: no quota\n"
    log = grants(capsys, "log", "--action", "grant.quota")[1].splitlines()
    assert len(log) == 2 and "batch checks" in log[1]
    assert [d["daily_quota"] for d in details(tmp_path, "grant.quota")] == [2000, None]


@pytest.mark.parametrize(("argv", "message"), [
    (["--subjects-per-day", "0"], "1 to 10000000"), (["--subjects-per-day", "99999999"], "1 to 10000000"),
])
def test_a_quota_out_of_range_is_refused(
    client_id: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str  # noqa: F811
) -> None:
    grant_id = grants(capsys, "grant", client_id, *asking("market.enterprise:read"))[1].split()[0]
    code, out = grants(capsys, "set-quota", grant_id, *argv)
    assert code == 1 and message in out


def test_a_revoked_grant_takes_no_quota(client_id: str, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    grant_id = grants(capsys, "grant", client_id, *asking("market.enterprise:read"))[1].split()[0]
    grants(capsys, "revoke", grant_id, "--reason", "project ended")
    code, out = grants(capsys, "set-quota", grant_id, "--subjects-per-day", "5")
    assert code == 1 and "is revoked" in out


def test_the_catalogue_export_carries_the_registry_s_limits_and_quotas(
    client_id: str, capsys: pytest.CaptureFixture[str], tmp_path: Path  # noqa: F811
) -> None:
    grant_id = grants(capsys, "grant", client_id, *asking("market.enterprise:read"))[1].split()[0]
    grants(capsys, "set-quota", grant_id, "--subjects-per-day", "2000")
    registry(capsys, "set-limits", client_id, "--rate", "1", "--burst", "5")
    assert main(["catalogue", "export", "--format", "json", "-o", str(tmp_path / "catalogue.json")]) == 0
    [listed] = json.loads((tmp_path / "catalogue.json").read_text())["fair_use"]["clients"]
    assert listed == {"client_id": client_id, "department": "centre",
                      "limits": {"rate": 1.0, "burst": 5, "cost_per_minute": 0, "cost_per_day": 0},
                      "daily_subject_quotas": {"market.enterprise:read": 2000}}
