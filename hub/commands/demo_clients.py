"""The demo's clients: one per department, each granted every scope of the catalogue for every
purpose the policies name (a development demo shows the whole graph; production grants little).

Credentials go to ``<directory>/<department>.json`` (owner-only). A client kept from an earlier
run keeps its file; if its live grants lack a scope or a purpose (a registry migrated from the
days of ``clients.scopes``), it is granted anew so the README's examples keep working.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from hub.grants import Actor, Catalogue, GrantService, grant_catalogue
from hub.oauth.catalogue import scope_catalogue
from hub.settings import Settings
from hub.store import Registry, connect, migrate

DEMO_OPERATOR = Actor("demo", "operator")
DEMO_DAYS = 365


def register_demo_clients(settings: Settings, directory: Path) -> list[Path]:
    """The credentials files written (none for clients kept from an earlier run)."""
    return asyncio.run(_register_demo_clients(settings, directory))


async def _register_demo_clients(settings: Settings, directory: Path) -> list[Path]:
    from connectors.binding import load_bindings

    from hub.commands.registry import _write_private

    catalogue, purposes = demo_grants(settings)
    engine = connect(settings.registry_url)
    written: list[Path] = []
    try:
        await migrate(engine)
        registry = Registry(engine)
        bindings = load_bindings(settings.bindings_dir)
        known = {d.name for d in await registry.departments()}
        for name, binding in bindings.items():
            if name not in known:
                await registry.add_department(name, binding.title)
        service = GrantService(engine, catalogue)
        for name, binding in bindings.items():
            path = directory / f"{name}.json"
            kept = json.loads(path.read_text())["client_id"] if path.is_file() else None
            if kept is not None and await registry.client(kept) is not None:
                await _grant_all(service, registry, kept, purposes)
                continue
            path.unlink(missing_ok=True)  # a stale file of a client the registry no longer has
            credentials = await _new_client(settings, engine, registry, name, binding.title)
            await _grant_all(service, registry, credentials["client_id"], purposes)
            _write_private(path, credentials)
            written.append(path)
    finally:
        await engine.dispose()
    return written


async def _new_client(
    settings: Settings, engine: AsyncEngine, registry: Registry, name: str, title: str
) -> dict[str, Any]:
    from hub.client import new_client_key

    key = new_client_key()
    public = {k: v for k, v in key.items() if k != "d"}
    client = await registry.register_client(name, f"{title} demo system", public)
    return {
        "client_id": client.client_id,
        "private_jwk": key,
        "token_url": f"{settings.oauth_issuer}/oauth/token",
        "resource": settings.oauth_resource,
        # What /oauth/token puts in a token today: the bindings' scopes (the finer ones are granted too).
        "scope": " ".join(sorted(scope_catalogue(settings.bindings_dir))),
    }


async def _grant_all(service: GrantService, registry: Registry, client_id: str, purposes: list[str]) -> None:
    """Every scope for every purpose, one grant per owning department, unless already held."""
    client = await registry.client(client_id)
    held = client.grants if client is not None else {}
    wanted = frozenset(purposes)
    owners = sorted({owner for owner, _ in service.catalogue.values()})
    for owner in owners:
        owned = [scope for scope, (department, _) in service.catalogue.items() if department == owner]
        if all(wanted <= held.get(scope, frozenset()) for scope in owned):
            continue
        await service.grant_now(DEMO_OPERATOR, client_id, owned, purposes, "development demo", DEMO_DAYS)


def demo_grants(settings: Settings) -> tuple[Catalogue, list[str]]:
    """The catalogue of the policy files, and every purpose they name."""
    import schema
    from hub.policy import load_policies

    policies = load_policies(settings.policies_dir, schema.build_schema())
    purposes = set[str]()
    for type_policy in policies.types.values():
        purposes |= type_policy.purposes
        for field in type_policy.fields.values():
            purposes |= field.purposes
    return grant_catalogue(policies), sorted(purposes)
