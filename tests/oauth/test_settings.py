"""Production refuses to start without what tokens need, and never runs without tokens."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.oauth.server import check_production
from hub.settings import SettingsError, load_settings
from hub.store.sealing import new_key_encryption_key


def test_production_refuses_anonymous_access() -> None:
    with pytest.raises(SettingsError, match="anonymous_access is for the development demo only"):
        load_settings(environment="production", anonymous_access=True)


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ("key_encryption_key", "HUB_KEY_ENCRYPTION_KEY"),
        ("issuer", "HUB_ISSUER"),
        ("database_url", "HUB_DATABASE_URL"),
    ],
)
def test_production_without_a_secret_or_address_says_what_to_set(missing: str, named: str) -> None:
    values = {
        "key_encryption_key": new_key_encryption_key(),
        "issuer": "https://hub.example",
        "database_url": "postgresql+asyncpg://hub@db/hub",
    }
    values.pop(missing)
    with pytest.raises(SettingsError, match=named):
        check_production(load_settings(environment="production", **values))


def test_hub_serve_refuses_to_start_without_a_key_encryption_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from hub.cli import main

    monkeypatch.setenv("HUB_ENV", "production")
    assert main(["serve"]) == 2
    assert "HUB_KEY_ENCRYPTION_KEY" in capsys.readouterr().err


def test_development_makes_its_key_encryption_key_under_the_state_directory(tmp_path: Path) -> None:
    from hub.store.sealing import Sealer

    settings = load_settings(environment="development", state_dir=tmp_path)
    sealed = Sealer.from_settings(settings).seal(b"secret", "kid")
    assert (tmp_path / "key-encryption-key").stat().st_mode & 0o077 == 0
    assert Sealer.from_settings(settings).open(sealed, "kid") == b"secret"


def test_an_app_built_with_incomplete_production_settings_does_not_start(demo_data_dir: Path) -> None:
    """Fail closed: not only `hub serve` but any way of building the app refuses half a production."""
    from hub.app import create_app

    with pytest.raises(SettingsError, match="HUB_KEY_ENCRYPTION_KEY"):
        create_app(load_settings(environment="production", demo_data_dir=demo_data_dir))
