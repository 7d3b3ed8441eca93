"""Review: a production hub must not start on a mask key every reader of this repository holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.app import create_app
from tests.oauth.conftest import production_settings

POLICIES = Path(__file__).resolve().parents[2] / "policies"
DEMO_KEY = "demo-only-applicant-pseudonym-key"


async def test_a_production_hub_refuses_the_published_demo_pseudonym_key(
    tmp_path: Path, demo_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HUB_APPLICANT_PSEUDONYM_KEY")  # the deployment set no key of its own
    assert DEMO_KEY in (POLICIES / "centre.toml").read_text(encoding="utf-8")
    settings = production_settings(f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}", demo_data_dir)
    try:
        app = create_app(settings)
    except Exception as refused:  # noqa: BLE001  any start-up refusal will do, if it names the key
        assert "applicant_pseudonym" in str(refused) or "key" in str(refused)
        return
    await app.state.hub.aclose()
    pytest.fail("a production hub started with the demo pseudonym key")
