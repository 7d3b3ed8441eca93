"""``hub admin``: the console's accounts, for the first operator and for recovery.

hub admin create-account USERNAME --role ROLE [--department D] [--name NAME] [--client CLIENT_ID ...]
hub admin set-password USERNAME        (read from the terminal, or from stdin with --password-stdin)
hub admin totp-enable USERNAME         a new TOTP secret (printed with its otpauth:// URI)
hub admin totp-disable USERNAME
hub admin disable USERNAME | enable USERNAME
hub admin list
hub admin link-oidc USERNAME SUBJECT   the OpenID Connect identity (HUB_OIDC_ISSUER, the HUB_OIDC_CLAIM
                                       value) that may sign in as USERNAME; unlink-oidc removes it

Each change is on the admin log (as in the console), by the OS user or --as NAME, role operator.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from hub.accounts import ROLES, AccountError, Accounts, AccountService
from hub.accounts.credentials import CredentialError, new_totp_secret, totp_uri
from hub.accounts.oidc_links import OidcLinks
from hub.admin.sessions import Sessions
from hub.commands.settings import command_settings
from hub.errors import NotFound
from hub.grants import Actor
from hub.store import connect, migrate

WHY = "hub admin"  # the admin log's "why" of every change made by this command
Action = Callable[[argparse.Namespace, AccountService, Sessions], Awaitable[int]]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "admin", help="console accounts", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, help="settings file (TOML); default: $HUB_CONFIG")
    parser.add_argument("--as", dest="actor", default=None, help="the operator's name (default: OS user)")
    sub = parser.add_subparsers(metavar="ACTION", required=True)
    create = _add(sub, "create-account", _create, "create a console account")
    create.add_argument("--role", choices=ROLES, required=True)
    create.add_argument("--department", help="stewards and developers: their department")
    create.add_argument("--name", default="", help="display name (default: the username)")
    create.add_argument(
        "--client", action="append", default=[], help="developers: a client they act for (repeat)"
    )
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    password = _add(sub, "set-password", _set_password, "set an account's password (its sessions end)")
    password.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    _add(sub, "totp-enable", _totp_enable, "give an account a new TOTP secret")
    _add(sub, "totp-disable", _totp_disable, "remove an account's TOTP second factor")
    _add(sub, "disable", _disabled(True), "disable an account (its sessions end)")
    _add(sub, "enable", _disabled(False), "enable an account")
    for name, linking in (("link-oidc", True), ("unlink-oidc", False)):
        oidc = _add(sub, name, _oidc_link(linking), f"{name.split('-')[0]} an OpenID Connect identity")
        oidc.add_argument("subject", help="the value of the HUB_OIDC_CLAIM claim (default: sub)")
    listing = sub.add_parser("list", help="list the accounts")
    listing.set_defaults(run=lambda args: asyncio.run(_with_accounts(args, _list)))


def _add(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, action: Action, help: str
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help)
    parser.add_argument("username")
    parser.set_defaults(run=lambda args: asyncio.run(_with_accounts(args, action)))
    return parser


async def _with_accounts(args: argparse.Namespace, action: Action) -> int:
    settings = command_settings(args.config)
    engine = connect(settings.registry_url)
    try:
        await migrate(engine)
        sessions = Sessions(
            engine, idle=settings.admin_idle_minutes * 60, absolute=settings.admin_session_hours * 3600
        )
        return await action(args, AccountService(Accounts(engine), OidcLinks(engine), why=WHY), sessions)
    finally:
        await engine.dispose()


def _operator(args: argparse.Namespace) -> Actor:
    """Who acts: the operator at the terminal, by the OS user's name or ``--as``."""
    return Actor(args.actor or getpass.getuser(), "operator")


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password (at least 12 characters): ")
    if getpass.getpass("Again: ") != first:
        raise CredentialError("the two passwords differ")
    return first


async def _create(args: argparse.Namespace, accounts: AccountService, sessions: Sessions) -> int:
    account = await accounts.create(
        _operator(args), args.username, args.name, args.role, _password(args), args.department,
        frozenset(args.client),
    )
    print(f"account {account.username} ({account.role}) created; sign in at /admin/signin")
    return 0


async def _set_password(args: argparse.Namespace, accounts: AccountService, sessions: Sessions) -> int:
    await accounts.set_password(_operator(args), args.username, _password(args))
    await sessions.close_all(args.username)
    print(f"password of {args.username} set; its sessions have ended")
    return 0


async def _totp_enable(args: argparse.Namespace, accounts: AccountService, sessions: Sessions) -> int:
    secret = new_totp_secret()
    await accounts.set_totp(_operator(args), args.username, secret)
    await sessions.close_all(args.username)
    print(f"TOTP secret for {args.username}: {secret}\n{totp_uri(secret, args.username)}")
    return 0


async def _totp_disable(args: argparse.Namespace, accounts: AccountService, sessions: Sessions) -> int:
    await accounts.set_totp(_operator(args), args.username, None)
    print(f"{args.username} signs in with a password only")
    return 0


def _disabled(disabled: bool) -> Action:
    async def run(args: argparse.Namespace, accounts: AccountService, sessions: Sessions) -> int:
        await accounts.set_disabled(_operator(args), args.username, disabled)
        if disabled:
            await sessions.close_all(args.username)
        print(f"{args.username} is {'disabled' if disabled else 'enabled'}")
        return 0

    return run


async def _list(args: argparse.Namespace, accounts: AccountService, sessions: Sessions) -> int:
    for account in await accounts.accounts.all():
        flags = [f for f, on in (("totp", account.totp_enabled), ("disabled", account.disabled)) if on]
        clients = f"  clients: {', '.join(sorted(account.clients))}" if account.clients else ""
        print(f"{account.username}  {account.role}  {account.department or '-'}  {' '.join(flags)}{clients}")
    return 0


def _oidc_link(linking: bool) -> Action:
    async def run(args: argparse.Namespace, accounts: AccountService, sessions: Sessions) -> int:
        issuer = command_settings(args.config).oidc_issuer
        if not issuer:
            raise AccountError("set HUB_OIDC_ISSUER first: a link names the provider's issuer")
        if linking:
            await accounts.link_oidc(_operator(args), issuer, args.subject, args.username)
            print(f"{args.subject} at {issuer} signs in as {args.username}")
        elif await accounts.unlink_oidc(_operator(args), issuer, args.subject):
            await sessions.close_all(args.username)
            print(f"{args.subject} at {issuer} no longer signs in; the sessions of {args.username} ended")
        else:
            raise NotFound(f"{args.subject} at {issuer} was not linked")
        return 0

    return run
