"""``hub federation sdl``: each department's Federation v2.7 subgraph SDL, ``schema/<department>.graphql``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hub.federation.sdl import SCHEMA_DIR, current_sdl, stale_files, write_files


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("federation", help="the departments' Federation v2 subgraphs")
    sub = parser.add_subparsers(metavar="ACTION", required=True)
    sdl = sub.add_parser(
        "sdl", help="print, check or write the subgraphs' SDL",
        description="Without options, print one department's SDL (or all, each after a comment naming "
        "it). --write updates schema/<department>.graphql; --check exits 1 when a file is stale.",
    )
    sdl.add_argument("department", nargs="?", help="one department (default: all)")
    action = sdl.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="write schema/<department>.graphql files")
    action.add_argument("--check", action="store_true", help="exit 1 if a checked-in file is stale")
    sdl.add_argument("--dir", type=Path, default=SCHEMA_DIR, help="where the files are (default: schema/)")
    sdl.set_defaults(run=run_sdl)


def run_sdl(args: argparse.Namespace) -> int:
    if args.write:
        changed = write_files(args.dir)
        print(f"{len(changed)} subgraph SDL file(s) updated in {args.dir}")
        return 0
    if args.check:
        stale = stale_files(args.dir)
        for path in stale:
            print(f"stale: {path} (run `hub federation sdl --write`)", file=sys.stderr)
        return 1 if stale else 0
    sdl = current_sdl()
    if args.department is not None:
        if args.department not in sdl:
            print(f"no department {args.department!r}; one of: {', '.join(sdl)}", file=sys.stderr)
            return 2
        sys.stdout.write(sdl[args.department])
        return 0
    for department, text in sdl.items():
        sys.stdout.write(f"# {department}\n{text}\n")
    return 0
