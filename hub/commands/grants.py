"""``hub grants``: purpose-bound grants from the operator's shell (the console uses the same service).

hub grants request CLIENT_ID --scope S ... --purpose P ... --legal-basis TEXT --days N
hub grants approve REQUEST_ID  |  refuse REQUEST_ID --reason TEXT  |  withdraw REQUEST_ID
hub grants grant CLIENT_ID --scope S ... --purpose P ... --legal-basis TEXT --days N   (request + approve)
hub grants revoke GRANT_ID --reason TEXT
hub grants amend GRANT_ID --remove-purpose P ... [--reason TEXT]
hub grants recertify GRANT_ID                     extend by the grant's original duration
hub grants set-quota GRANT_ID --subjects-per-day N | --none [--reason TEXT]   disclosure quota per scope
hub grants list [--client ID | --department NAME [--side owner|consumer]] [--due-within DAYS]
hub grants log [--actor U] [--action A] [--target ID] [--since DATE] [--until DATE] [--limit N]

Every change is made as the operator named by --as (default: your OS user) and is on the admin
actions log. Scopes come from the catalogue (`hub catalogue export`); purposes are lower_snake.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import getpass
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from hub.commands.settings import command_settings
from hub.grants import Actor, Grant, GrantError, GrantRequest, GrantService, load_grant_catalogue
from hub.grants.checks import GRANT_ID, REQUEST_ID
from hub.store import connect, migrate

Action = Callable[[argparse.Namespace, GrantService, Actor], Awaitable[int]]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "grants", help="purpose-bound grants: request, approve, revoke, recertify, the admin log",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, help="settings file (TOML); default: $HUB_CONFIG")
    parser.add_argument("--as", dest="username", default=None, help="the operator's name (default: OS user)")
    sub = parser.add_subparsers(metavar="ACTION", required=True)
    for name, action, help in (("request", _request, "request scopes for a client"),
                               ("grant", _grant, "grant at once (request and approve)")):
        asked = _add(sub, name, action, help)
        asked.add_argument("client_id")
        _asking(asked)
    for name, action, help in (("approve", _approve, "approve a pending request"),
                               ("refuse", _refuse, "refuse a pending request, with reasons"),
                               ("withdraw", _withdraw, "withdraw a pending request")):
        answer = _add(sub, name, action, help)
        answer.add_argument("request_id")
        answer.add_argument("--reason", required=name == "refuse")
    revoke = _add(sub, "revoke", _revoke, "revoke a grant (effective on the client's next request)")
    revoke.add_argument("grant_id")
    revoke.add_argument("--reason", required=True)
    amend = _add(sub, "amend", _amend, "remove purposes from a grant")
    amend.add_argument("grant_id")
    amend.add_argument("--remove-purpose", action="append", default=[], required=True)
    amend.add_argument("--reason")
    _add(sub, "recertify", _recertify, "extend a grant by its original duration").add_argument("grant_id")
    quota = _add(sub, "set-quota", _set_quota, "cap the distinct subjects a day shown under each of its scopes")
    quota.add_argument("grant_id")
    capped = quota.add_mutually_exclusive_group(required=True)
    capped.add_argument("--subjects-per-day", type=int, metavar="N")
    capped.add_argument("--none", action="store_true", help="lift the quota")
    quota.add_argument("--reason")
    listing = _add(sub, "list", _list, "grants and requests, with deadlines and recertification flags")
    listing.add_argument("--client", help="one client's")
    listing.add_argument("--department", help="one department's")
    listing.add_argument("--side", choices=("consumer", "owner"), default="consumer")
    listing.add_argument("--due-within", type=int, default=30, metavar="DAYS", help="flag grants ending within")
    log = _add(sub, "log", _log, "the admin actions log, newest first")
    for option in ("--actor", "--action", "--target"):
        log.add_argument(option)
    log.add_argument("--since", type=_instant, help="YYYY-MM-DD or ISO time (UTC)")
    log.add_argument("--until", type=_instant, help="YYYY-MM-DD or ISO time (UTC)")
    log.add_argument("--limit", type=int, default=100)


def _asking(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scope", action="append", default=[], required=True, help="a catalogue scope (repeat)")
    parser.add_argument("--purpose", action="append", default=[], required=True, help="a purpose (repeat)")
    parser.add_argument("--legal-basis", required=True)
    parser.add_argument("--days", type=int, required=True, help="1-1095")
    parser.add_argument("--answer-days", type=int, default=10, help="the owner answers within (default 10)")


def _add(sub: Any, name: str, action: Action, help: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help)
    parser.set_defaults(run=lambda args: asyncio.run(_with_service(args, action)))
    return parser


async def _with_service(args: argparse.Namespace, action: Action) -> int:
    for name, pattern, what in (("grant_id", GRANT_ID, "grant"), ("request_id", REQUEST_ID, "grant request")):
        value = getattr(args, name, None)
        if value is not None and not pattern.match(value):  # said before any database is opened
            shape = f"{pattern.pattern[1:3]} and 16 hex digits, as `hub grants list` shows them"
            raise GrantError(f"{value[:40]!r} is not a {what} id: {shape}")
    settings = command_settings(args.config)
    engine = connect(settings.registry_url)
    try:
        await migrate(engine)
        catalogue = load_grant_catalogue(settings.policies_dir)
        service = GrantService(engine, catalogue, answer_days=getattr(args, "answer_days", 10))
        return await action(args, service, Actor(args.username or getpass.getuser(), "operator"))
    finally:
        await engine.dispose()


async def _request(args: argparse.Namespace, service: GrantService, actor: Actor) -> int:
    asked = await service.request(actor, args.client_id, args.scope, args.purpose, args.legal_basis, args.days)
    if asked.grant_id is not None:
        print(f"{asked.request_id} granted at once (unconditional): grant {asked.grant_id}")
    else:
        print(f"{asked.request_id} pending: {asked.owner_department} answers by {_when(asked.deadline)}")
    return 0


async def _grant(args: argparse.Namespace, service: GrantService, actor: Actor) -> int:
    grant = await service.grant_now(actor, args.client_id, args.scope, args.purpose, args.legal_basis, args.days)
    print(f"{grant.grant_id} granted to {grant.client_id} until {_when(grant.valid_to)}")
    return 0


async def _approve(args: argparse.Namespace, service: GrantService, actor: Actor) -> int:
    grant = await service.approve(actor, args.request_id)
    print(f"{args.request_id} approved: grant {grant.grant_id} until {_when(grant.valid_to)}")
    return 0


async def _refuse(args: argparse.Namespace, service: GrantService, actor: Actor) -> int:
    await service.refuse(actor, args.request_id, args.reason)
    print(f"{args.request_id} refused")
    return 0


async def _withdraw(args: argparse.Namespace, service: GrantService, actor: Actor) -> int:
    await service.withdraw(actor, args.request_id, args.reason)
    print(f"{args.request_id} withdrawn")
    return 0


async def _revoke(args: argparse.Namespace, service: GrantService, actor: Actor) -> int:
    grant = await service.revoke(actor, args.grant_id, args.reason)
    print(f"{grant.grant_id} revoked: {grant.client_id} loses {' '.join(sorted(grant.scopes))} on its next request")
    return 0


async def _amend(args: argparse.Namespace, service: GrantService, actor: Actor) -> int:
    grant = await service.amend(actor, args.grant_id, args.remove_purpose, args.reason)
    print(f"{grant.grant_id} purposes: {' '.join(sorted(grant.purposes))}")
    return 0


async def _set_quota(args: argparse.Namespace, service: GrantService, actor: Actor) -> int:
    grant = await service.set_quota(actor, args.grant_id, None if args.none else args.subjects_per_day, args.reason)
    shown = "no quota" if grant.daily_quota is None else f"at most {grant.daily_quota} subjects a day per scope"
    print(f"{grant.grant_id}: {shown}")
    return 0


async def _recertify(args: argparse.Namespace, service: GrantService, actor: Actor) -> int:
    grant = await service.recertify(actor, args.grant_id)
    print(f"{grant.grant_id} recertified until {_when(grant.valid_to)}")
    return 0


async def _list(args: argparse.Namespace, service: GrantService, actor: Actor) -> int:
    filters = {"client_id": args.client, "department": args.department, "side": args.side}
    now = service.now()
    print("grants:")
    for grant in await service.grants(**filters):
        print("  " + _grant_line(grant, now, args.due_within))
    print("requests:")
    for asked in await service.requests(**filters):
        print("  " + _request_line(asked))
    return 0


async def _log(args: argparse.Namespace, service: GrantService, actor: Actor) -> int:
    found = await service.admin_log(
        actor=args.actor, action=args.action, target=args.target, since=args.since, until=args.until,
        limit=args.limit,
    )
    for entry in found:
        why = f"  why: {entry.why}" if entry.why else ""
        print(f"{_when(entry.at)}  {entry.actor} ({entry.role})  {entry.action}  {entry.target}{why}")
    return 0


def _grant_line(grant: Grant, now: int, due_within: int) -> str:
    if grant.status != "active":
        state = f"revoked {_when(grant.revoked_at or 0)}: {grant.revoke_reason}"
    elif not grant.live_at(now):
        state = "expired: recertify or let it go"
    else:
        state = "active" + ("  RECERTIFY SOON" if grant.due_at(now, due_within) else "")
    return (
        f"{grant.grant_id}  {grant.client_id}  from {grant.owner_department}  "
        f"{' '.join(sorted(grant.scopes))}  for {','.join(sorted(grant.purposes)) or '(no purpose)'}  "
        f"until {_when(grant.valid_to)}  {state}"
    )


def _request_line(asked: GrantRequest) -> str:
    late = "  OVERDUE" if asked.overdue else ""
    reason = f": {asked.reason}" if asked.reason else ""
    return (
        f"{asked.request_id}  {asked.client_id}  to {asked.owner_department}  {' '.join(sorted(asked.scopes))}  "
        f"{asked.status}{reason}  answer by {_when(asked.deadline)}{late}"
    )


def _when(instant: int) -> str:
    return dt.datetime.fromtimestamp(instant, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _instant(text: str) -> int:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date or ISO time: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp())
