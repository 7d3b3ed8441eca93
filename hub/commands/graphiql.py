"""``hub graphiql install``: GraphiQL's files from the npm registry, served by the hub offline."""

from __future__ import annotations

import argparse
from pathlib import Path

from hub.graphql import graphiql
from hub.settings import load_settings


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("graphiql", help="manage GraphiQL's offline assets")
    sub = parser.add_subparsers(metavar="ACTION", required=True)
    install = sub.add_parser("install", help="fetch the assets with npm pack (needs npm, registry access)")
    install.add_argument("--dir", type=Path, help="where to put them (default: settings graphiql_assets_dir)")
    install.add_argument("--force", action="store_true", help="fetch even if already installed")
    install.set_defaults(run=run_install)


def run_install(args: argparse.Namespace) -> int:
    directory = args.dir or load_settings().graphiql_assets_dir
    if graphiql.installed(directory) and not args.force:
        print(f"GraphiQL assets already in {directory}")
        return 0
    written = graphiql.install(directory)
    print(f"GraphiQL assets installed in {directory} ({len(written)} files, integrity checked)")
    return 0
