"""``hub cache invalidate``: drop entity cache entries, on Redis directly or through a running hub."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import httpx

from hub.commands.settings import command_settings
from hub.settings import Settings


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("cache", help="manage the entity cache")
    sub = parser.add_subparsers(metavar="ACTION", required=True)
    inv = sub.add_parser(
        "invalidate", help="drop cached records by key",
        description="Drop cached records of CONNECTOR's ENTITY whose FIELD (default: the entity key) "
        "is one of KEYS, or every cached record of the entity with --all. Example: "
        "hub cache invalidate market enterprise 91130200699229617X",
    )
    inv.add_argument("connector", help="department connector, e.g. market")
    inv.add_argument("entity", help="entity, e.g. enterprise")
    inv.add_argument("keys", nargs="*", help="key values")
    inv.add_argument("--field", help="field the keys are values of (default: the entity key)")
    inv.add_argument("--all", action="store_true", help="drop every cached record of the entity")
    inv.add_argument("--config", type=Path, help="settings file (TOML); default: $HUB_CONFIG")
    inv.set_defaults(run=run_invalidate)


def run_invalidate(args: argparse.Namespace) -> int:
    if bool(args.keys) == bool(args.all):
        print("hub cache invalidate: give KEYS or --all (not both)")
        return 2
    settings = command_settings(args.config)
    payload = {"connector": args.connector, "entity": args.entity, "field": args.field,
               "keys": None if args.all else list(args.keys)}
    count = asyncio.run(_invalidate(settings, payload))
    print(f"invalidated {count} cache entr{'y' if count == 1 else 'ies'}")
    return 0


async def _invalidate(settings: Settings, payload: dict[str, object]) -> int:
    """Ask the running hub: it knows the entities, and only it can reach an in-process cache."""
    token = settings.ops_token or _demo_token(settings)
    if token is None:
        raise SystemExit("hub cache invalidate: no operator token (set HUB_OPS_TOKEN as for the hub)")
    url = f"http://{settings.host}:{settings.port}/ops/cache/invalidate"
    async with httpx.AsyncClient(timeout=10) as client:
        try:
            response = await client.post(url, json=payload, headers={"Authorization": f"Bearer {token}"})
        except httpx.TransportError as exc:
            raise SystemExit(f"hub cache invalidate: the hub at {url} is not reachable ({exc})") from None
    if response.status_code != 200:
        raise SystemExit(f"hub cache invalidate: {response.status_code}: {response.json().get('error')}")
    return int(response.json()["invalidated"])


def _demo_token(settings: Settings) -> str | None:
    path = settings.demo_data_dir.parent / "ops-token"
    return path.read_text().strip() if settings.development and path.is_file() else None
