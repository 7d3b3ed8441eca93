"""Several hub replicas on one registry: single use holds across them, not per process.

RFC 7523 3: the server "MAY ensure that JWTs are not replayed by maintaining the set of used 'jti'
values"; FAPI 2.0 requires it. With replicas, the set lives in the registry they share.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.client import new_client_key
from hub.oauth.server import check_production
from hub.settings import SettingsError, load_settings
from hub.store.sealing import new_key_encryption_key
from tests.oauth.conftest import ISSUER, TOKEN_URL, open_oauth_hub, production_settings, proof


async def test_a_client_assertion_accepted_by_one_replica_is_refused_by_another(
    tmp_path: Path, demo_data_dir: Path
) -> None:
    settings = production_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'shared.sqlite'}",
        demo_data_dir,
        key_encryption_key=new_key_encryption_key(),
    )
    async with open_oauth_hub(settings) as first, open_oauth_hub(settings) as second:
        client = await first.register()
        assertion = first.assertion(client)
        accepted = await first.http.post(
            TOKEN_URL,
            data=first.token_form(client, assertion),
            headers={"DPoP": proof(new_client_key(), "POST", TOKEN_URL)},
        )
        assert accepted.status_code == 200, accepted.text
        replayed = await second.http.post(
            TOKEN_URL,
            data=second.token_form(client, assertion),
            headers={"DPoP": proof(new_client_key(), "POST", TOKEN_URL)},
        )
        assert replayed.status_code == 401 and replayed.json()["error"] == "invalid_client"
        assert "already used" in replayed.json()["error_description"]


def _production(**values: object) -> object:
    return load_settings(
        environment="production",
        issuer=ISSUER,
        key_encryption_key=new_key_encryption_key(),
        database_url="postgresql+asyncpg://hub@db/hub",
        **values,
    )


def test_production_refuses_the_in_process_replay_cache_unless_one_process_is_declared() -> None:
    with pytest.raises(SettingsError, match="HUB_REPLAY_CACHE_URL=redis://"):
        check_production(_production())  # type: ignore[arg-type]
    check_production(_production(single_process=True))  # type: ignore[arg-type]
    check_production(_production(replay_cache_url="redis://cache:6379/0"))  # type: ignore[arg-type]


def test_hub_single_process_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_SINGLE_PROCESS", "true")
    assert load_settings(environment="production").single_process is True
