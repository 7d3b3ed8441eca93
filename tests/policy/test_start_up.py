"""The hub does not start on policies it cannot trust (docs/architecture.md, rule 2): the message names file, line, field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hub.app import create_app
from hub.policy import PolicyError
from hub.settings import load_settings

POLICIES = Path(__file__).resolve().parents[2] / "policies"


def broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    copy = tmp_path / "policies"
    shutil.copytree(POLICIES, copy)
    text = (copy / "market.toml").read_text(encoding="utf-8")
    assert old in text
    (copy / "market.toml").write_text(text.replace(old, new, 1), encoding="utf-8")
    return copy


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('business_scope = "unconditional"\n', "", "business_scope"),  # an unclassified field
        ('mask = "capital_band"', 'mask = "capital_bands"', "capital_bands"),  # a mask that does not exist
        ('uscc = "unconditional"', 'uscc = "unconditional"\nnot_a_field = "unconditional"', "not_a_field"),
        ("[types.Enterprise.fields]", "[types.Enterprise.fields", "market.toml"),  # malformed TOML
    ],
)
def test_the_hub_refuses_to_start_on_a_bad_policy_naming_file_line_and_field(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    settings = load_settings(environment="development", policies_dir=broken_copy(tmp_path, old, new),
                             state_dir=tmp_path / "state")
    with pytest.raises(PolicyError) as raised:
        create_app(settings)
    message = str(raised.value)
    assert "market.toml:" in message and expected in message


def test_the_hub_starts_on_the_demo_policies(tmp_path: Path) -> None:
    app = create_app(load_settings(environment="development", state_dir=tmp_path / "state"))
    assert app.state.hub.policies.types["Enterprise"].scope == "market.enterprise:read"


def test_hub_serve_refuses_bad_policies_with_the_message_and_no_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from hub.cli import main

    monkeypatch.setenv("HUB_POLICIES", str(broken_copy(tmp_path, 'business_scope = "unconditional"\n', "")))
    monkeypatch.setenv("HUB_ENV", "development")
    monkeypatch.setenv("HUB_STATE_DIR", str(tmp_path / "state"))
    assert main(["serve", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hub: policies: ") and "market.toml:" in err and "business_scope" in err
    assert "Traceback" not in err
