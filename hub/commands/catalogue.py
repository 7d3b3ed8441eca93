"""``hub catalogue export``: the catalogue of shared data, generated from the graph, policies and bindings.

hub catalogue export --format json            the whole catalogue as JSON on standard output
hub catalogue export --format csv -o FILE     one row per field (RFC 4180, UTF-8) into FILE

The JSON export also carries ``fair_use``: the settings' default limits and, from the registry, each
client's own limits and its grants' disclosure quotas.

The policy and binding directories are the hub's own (settings: HUB_POLICIES, HUB_BINDINGS), so
the export shows what the hub enforces; a policy that would stop the hub stops the export too.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from connectors.binding import BindingError
from hub.catalogue import Catalogue, CatalogueError, load_catalogue, to_csv, to_json
from hub.policy import PolicyError
from hub.fairuse.catalogue import fair_use_section
from hub.commands.settings import command_settings
from hub.settings import Settings
from hub.store import Registry, connect


def _csv_bytes(catalogue: Catalogue) -> bytes:
    return to_csv(catalogue).encode("utf-8")


FORMATS: dict[str, Callable[[Catalogue], bytes]] = {"json": to_json, "csv": _csv_bytes}


async def _fair_use(settings: Settings) -> dict[str, Any]:
    """The registry's limits and quotas; a development hub that never ran has none yet (the defaults)."""
    url = make_url(settings.registry_url)
    if settings.database_url is None and not Path(url.database or "").exists():  # noqa: ASYNC240  one stat
        return fair_use_section(settings.fair_use, [])
    engine = connect(settings.registry_url)
    try:
        return fair_use_section(settings.fair_use, await Registry(engine).clients())
    finally:
        await engine.dispose()


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "catalogue",
        help="the catalogue of shared data: resources, fields, scopes",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(metavar="ACTION", required=True)
    export = sub.add_parser("export", help="export the catalogue as JSON or CSV")
    export.add_argument("--format", required=True, choices=sorted(FORMATS), help="json or csv")
    export.add_argument("-o", "--output", type=Path, help="write to this file (default: standard output)")
    export.add_argument("--config", type=Path, help="settings file (TOML); default: $HUB_CONFIG")
    export.set_defaults(run=run_export)


def run_export(args: argparse.Namespace) -> int:
    settings = command_settings(args.config)
    try:
        catalogue = load_catalogue(settings.policies_dir, settings.bindings_dir)
        catalogue = dataclasses.replace(catalogue, fair_use=asyncio.run(_fair_use(settings)))
    except (PolicyError, BindingError, CatalogueError) as exc:
        print(f"hub catalogue: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"hub catalogue: cannot read limits and quotas from the registry ({type(exc).__name__}); "
              "is it migrated (hub migrate)?", file=sys.stderr)
        return 1
    data = FORMATS[args.format](catalogue)
    if args.output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return 0
    try:
        args.output.write_bytes(data)
    except OSError as exc:
        print(f"hub catalogue: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    fields = len(catalogue.fields())
    print(
        f"{len(catalogue.resources)} resources, {fields} fields, {len(catalogue.scopes)} scopes -> {args.output}"
    )
    return 0
