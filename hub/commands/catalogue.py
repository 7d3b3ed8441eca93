"""``hub catalogue export``: the catalogue of shared data, generated from the graph, policies and bindings.

hub catalogue export --format json            the whole catalogue as JSON on standard output
hub catalogue export --format csv -o FILE     one row per field (RFC 4180, UTF-8) into FILE

The policy and binding directories are the hub's own (settings: HUB_POLICIES, HUB_BINDINGS), so
the export shows what the hub enforces; a policy that would stop the hub stops the export too.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from connectors.binding import BindingError
from hub.catalogue import Catalogue, CatalogueError, load_catalogue, to_csv, to_json
from hub.policy import PolicyError
from hub.settings import load_settings


def _csv_bytes(catalogue: Catalogue) -> bytes:
    return to_csv(catalogue).encode("utf-8")


FORMATS: dict[str, Callable[[Catalogue], bytes]] = {"json": to_json, "csv": _csv_bytes}


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
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
    settings = load_settings(args.config)
    try:
        catalogue = load_catalogue(settings.policies_dir, settings.bindings_dir)
    except (PolicyError, BindingError, CatalogueError) as exc:
        print(f"hub catalogue: {exc}", file=sys.stderr)
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
