"""``hub audit``: the auditors' tools over the disclosure log (read-only, except for sealing).

hub audit verify        recompute the chain, check MACs, head and seals; exit 1 on any tampering
                        (--since-seal SEQ / --since-last-seal: only the records after a seal)
hub audit seal          sign a seal over the latest record now
hub audit who SUBJECT   who accessed an enterprise (USCC) or a person (ID number): when, who, why
hub audit search ...    disclosures by client, subject, purpose, case and time, newest first
hub audit status        the chain's verification summed up: records, last seal, findings
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from hub.audit import AuditKeys, AuditStore, verify, who_accessed
from hub.audit.queries import Access, chain_status, search
from hub.identifiers.errors import InvalidIdentifier
from hub.commands.settings import command_settings
from hub.store import Sealer, connect, migrate

Action = Callable[[argparse.Namespace, AuditStore], Awaitable[int]]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "audit",
        help="verify, seal and query the disclosure log",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, help="settings file (TOML); default: $HUB_CONFIG")
    sub = parser.add_subparsers(metavar="ACTION", required=True)
    checks = _add(sub, "verify", _verify, "check the whole log for tampering")
    since = checks.add_mutually_exclusive_group()
    since.add_argument("--since-seal", type=int, metavar="SEQ",
                       help="check only the records after the seal at SEQ (one an earlier full check covered)")
    since.add_argument("--since-last-seal", action="store_true",
                       help="check only the records after the newest seal")
    _add(sub, "seal", _seal, "seal the latest record now")
    who = _add(sub, "who", _who, "who accessed a subject's data")
    who.add_argument("subject", help="an enterprise's USCC or a person's ID number")
    _search_arguments(_add(sub, "search", _search, "disclosures by client, subject, purpose, case, time"))
    _add(sub, "status", _status, "verify the log and sum it up: records, last seal, findings")


def _search_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--client", help="a client id")
    parser.add_argument("--subject", help="an enterprise's USCC or a person's ID number")
    parser.add_argument("--purpose", help="the purpose the request declared")
    parser.add_argument("--case", help="the case number the request named")
    parser.add_argument("--since", help="from this time on (ISO 8601 with offset: 2026-11-26T09:00:00+08:00)")
    parser.add_argument("--until", help="before this time (ISO 8601 with offset)")
    parser.add_argument("--limit", type=int, default=100, help="at most this many (1-500; default 100)")
    parser.add_argument("--before", type=int, help="only records older than this seq (the next page)")


def _add(sub: Any, name: str, action: Action, help: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help)
    parser.set_defaults(run=lambda args: asyncio.run(_with_store(args, action)))
    return parser


async def _with_store(args: argparse.Namespace, action: Action) -> int:
    settings = command_settings(args.config)
    keys = AuditKeys.from_sealer(Sealer.from_settings(settings))
    engine = connect(settings.registry_url)
    try:
        await migrate(engine)
        return await action(args, AuditStore(engine, keys))
    finally:
        await engine.dispose()


async def _verify(args: argparse.Namespace, store: AuditStore) -> int:
    since = args.since_seal
    if args.since_last_seal:
        since = await store.last_sealed_seq()
        if since is None:  # nothing to start from: say so, then check everything
            print("no seal yet: checking the whole log (hub audit seal makes one)")
    try:
        report = await verify(store, since_seal=since)
    except ValueError as exc:
        print(f"hub audit: {exc}")
        return 2
    if since is not None:
        print(f"from the seal at seq {since}:")
    print(f"{report.records} records (last seq {report.last_seq}), {report.seals} seals")
    for finding in report.findings:
        print(f"  seq {finding.seq}: {finding.kind}: {finding.detail}")
    print("intact" if report.intact else f"TAMPERED: {len(report.findings)} findings")
    return 0 if report.intact else 1


async def _seal(args: argparse.Namespace, store: AuditStore) -> int:
    seal = await store.seal()
    if seal is None:
        print("the log is empty: nothing to seal")
        return 0
    print(f"sealed seq {seal.seq} hash {seal.hash} with key {seal.kid} at {seal.sealed_at}")
    return 0


async def _who(args: argparse.Namespace, store: AuditStore) -> int:
    try:
        accesses = await who_accessed(store, args.subject)
    except InvalidIdentifier as exc:
        print(f"hub audit: {exc}")
        return 2
    for access in accesses:
        print(_line(access))
    print(f"{len(accesses)} disclosures")
    return 0


def _line(access: Access) -> str:
    case = access.case_number or "-"
    fields = ", ".join(f"{name}={decision}" for name, decision in sorted(access.fields.items()))
    return (
        f"{access.time}  {access.department}/{access.client_id}  user {access.end_user or '-'}  "
        f"purpose {access.purpose}  case {case}  {access.operation_name or '-'}  fields: {fields}"
    )


async def _search(args: argparse.Namespace, store: AuditStore) -> int:
    try:
        accesses = await search(
            store, client_id=args.client, subject=args.subject, purpose=args.purpose,
            case_number=args.case, since=args.since, until=args.until, limit=args.limit,
            before_seq=args.before,
        )  # fmt: skip
    except ValueError as exc:  # InvalidIdentifier is one too
        print(f"hub audit: {exc}")
        return 2
    for access in accesses:
        subjects = " ".join(sorted(access.subjects)) if not access.fields else ""
        print(f"seq {access.seq}  {_line(access)}{'  subjects: ' + subjects if subjects else ''}")
    print(f"{len(accesses)} disclosures")
    if len(accesses) == args.limit:
        print(f"more may follow: --before {accesses[-1].seq}")
    return 0


async def _status(args: argparse.Namespace, store: AuditStore) -> int:
    status = await chain_status(store)
    sealed = "never sealed"
    if status.last_sealed_at is not None:
        sealed = f"last sealed at seq {status.last_sealed_seq} on {status.last_sealed_at}"
    print(f"{status.records} records (last seq {status.last_seq}), {status.seals} seals, {sealed}")
    kinds = ", ".join(f"{kind} {count}" for kind, count in status.by_kind.items())
    print("intact" if status.intact else f"TAMPERED: {status.findings} findings ({kinds})")
    return 0 if status.intact else 1
