"""The demo's clients are granted through the grant service, for the policies' purposes, and a
kept client missing a grant (a registry from before grants) is granted anew on the next run."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from hub.commands.registry import register_demo_clients
from hub.grants import Actor, GrantService
from hub.settings import load_settings
from hub.store import Registry, connect


async def _client_grants(url: str, client_id: str) -> dict[str, frozenset[str]]:
    engine = connect(url)
    try:
        client = await Registry(engine).client(client_id)
        assert client is not None
        return dict(client.grants)
    finally:
        await engine.dispose()


async def _revoke_all(url: str, client_id: str) -> None:
    engine = connect(url)
    try:
        service = GrantService(engine, {})
        for grant in await service.grants(client_id=client_id, active_only=True):
            await service.revoke(Actor("olga", "operator"), grant.grant_id, "as if migrated")
    finally:
        await engine.dispose()


def test_demo_clients_hold_every_scope_for_the_readme_purposes_and_regain_lost_grants(tmp_path: Path) -> None:
    settings = load_settings(environment="development", state_dir=tmp_path)
    register_demo_clients(settings, tmp_path / "clients")
    market = json.loads((tmp_path / "clients" / "market.json").read_text())
    held = asyncio.run(_client_grants(settings.registry_url, market["client_id"]))
    assert set(market["scope"].split()) <= set(held)
    assert {"licensing", "supervision", "case_handling", "identity_check"} <= held["market.enterprise:read"]
    assert {"licensing", "identity_check"} <= held["security.identity:read"]
    asyncio.run(_revoke_all(settings.registry_url, market["client_id"]))
    assert asyncio.run(_client_grants(settings.registry_url, market["client_id"])) == {}
    assert register_demo_clients(settings, tmp_path / "clients") == []  # the same client, its file kept
    assert asyncio.run(_client_grants(settings.registry_url, market["client_id"])) == held
