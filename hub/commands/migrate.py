"""``hub migrate``: bring the registry database to this code's schema, once, before replicas start.

The operator's step in a deployment (the compose one-shot service, the Kubernetes Job), so no
request ever waits on a migration and replicas starting together never race one. ``--check``
only reports (exit 1 when behind), for an init container or a deploy script's guard.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from hub.commands.settings import command_settings
from hub.settings import Settings, SettingsError
from hub.store import connect, migrate
from hub.store.database import exclusive
from hub.store.revision import RegistryBehind, code_revision, database_revision, require_migrated


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("migrate", help="bring the registry database to this hub's schema")
    parser.add_argument("--config", type=Path, help="settings file (TOML); default: $HUB_CONFIG")
    parser.add_argument("--check", action="store_true", help="only report; exit 1 when behind")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = command_settings(args.config)
    if not settings.development and not settings.database_url:
        raise SettingsError("production needs HUB_DATABASE_URL (the registry, e.g. postgresql+asyncpg://...)")
    return asyncio.run(_check(settings) if args.check else _migrate(settings))


async def _migrate(settings: Settings) -> int:
    engine = connect(settings.registry_url)
    try:
        async with exclusive(engine):  # two migration jobs at once take turns
            before = await database_revision(engine)
            await migrate(engine)
    finally:
        await engine.dispose()
    was = f"was {before}" if before else "was empty"
    print(f"the registry database is at revision {code_revision()} ({was})", flush=True)
    return 0


async def _check(settings: Settings) -> int:
    engine = connect(settings.registry_url)
    try:
        await require_migrated(engine)
    except RegistryBehind as exc:
        print(f"hub migrate --check: {exc}", flush=True)
        return 1
    finally:
        await engine.dispose()
    print(f"the registry database is at revision {code_revision()} or newer", flush=True)
    return 0
