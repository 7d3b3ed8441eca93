"""``hub operations hash``: the SHA-256 that names a document on a client's persisted-operation list."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson

from hub.graphql.persisted import operation_hash


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("operations", help="persisted operations (allow-lists per client)")
    sub = parser.add_subparsers(metavar="ACTION", required=True)
    hashing = sub.add_parser(
        "hash", help="print the SHA-256 of GraphQL documents",
        description="Print the SHA-256 (hex) of each FILE's exact UTF-8 text: the key of the document on a "
        "client's allow-list (<client-id>.json in limits.persisted_operations_dir) and the "
        "extensions.persistedQuery.sha256Hash a client sends. Clients must send the text byte for byte.",
    )
    hashing.add_argument("files", nargs="+", type=Path, metavar="FILE", help="a .graphql document")
    hashing.add_argument("--json", action="store_true", help="print an allow-list object {sha256: document}")
    hashing.set_defaults(run=run_hash)


def run_hash(args: argparse.Namespace) -> int:
    documents: dict[str, str] = {}
    for file in args.files:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"hub operations hash: {file}: {exc}", file=sys.stderr)
            return 1
        documents[str(file)] = text
    if args.json:
        allow_list = {operation_hash(text): text for text in documents.values()}
        print(orjson.dumps(allow_list, option=orjson.OPT_INDENT_2).decode())
    elif len(documents) == 1:
        print(operation_hash(next(iter(documents.values()))))
    else:
        for name, text in documents.items():
            print(f"{operation_hash(text)}  {name}")
    return 0
