"""``hub catalogue export``: what an operator types to publish the catalogue as JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from hub.cli import main
from tests.policy.conftest import Edit


@pytest.fixture(autouse=True)
def hub_env(policy_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The hub's settings pointing at a copy of the demo policies."""
    monkeypatch.delenv("HUB_CONFIG", raising=False)
    monkeypatch.setenv("HUB_ENV", "development")
    monkeypatch.setenv("HUB_POLICIES", str(policy_dir))
    return policy_dir


def test_json_goes_to_standard_output(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["catalogue", "export", "--format", "json"]) == 0
    document = json.loads(capsysbinary.readouterr().out.decode("utf-8"))
    assert {r["name"] for r in document["resources"]} >= {"Enterprise", "Person", "TaxRegistration"}
    assert any(d["title_local"] == "税务局" for d in document["departments"])


def test_csv_goes_to_the_named_file_and_the_count_is_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "catalogue.csv"
    assert main(["catalogue", "export", "--format", "csv", "--output", str(output)]) == 0
    data = output.read_bytes()
    assert data.count(b"\r\n") == data.count(b"\n")  # written as is: no newline translation
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    assert len(rows) > 100 and {r["department_title_local"] for r in rows} >= {"市场监督管理局", "公安局"}
    assert capsys.readouterr().out.strip().endswith(f"fields, 21 scopes -> {output}")


def test_the_export_follows_the_policy_files_the_hub_is_configured_with(
    edit: Edit, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    edit("security.toml", 'update_cycle = "real-time"', 'update_cycle = "daily"')
    assert main(["catalogue", "export", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsysbinary.readouterr().out.decode("utf-8"), newline="")))
    cycles = {r["update_cycle"] for r in rows if r["resource"] == "IdentityVerification"}
    assert cycles == {"daily"}


def test_a_policy_that_would_stop_the_hub_stops_the_export(
    edit: Edit, capsys: pytest.CaptureFixture[str]
) -> None:
    path = edit("ecology.toml", 'pollutants = "unconditional"', 'pollutants = "public"')
    assert main(["catalogue", "export", "--format", "json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"hub catalogue: {path}:") and "'public'" in captured.err


def test_an_unknown_format_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["catalogue", "export", "--format", "xlsx"])
    assert exited.value.code == 2
    assert "invalid choice: 'xlsx'" in capsys.readouterr().err


def test_the_format_must_be_given(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["catalogue", "export"])
    assert exited.value.code == 2 and "--format" in capsys.readouterr().err


def test_an_output_file_that_cannot_be_written_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "missing" / "catalogue.json"
    assert main(["catalogue", "export", "--format", "json", "-o", str(target)]) == 2
    assert "cannot write" in capsys.readouterr().err and not target.exists()
