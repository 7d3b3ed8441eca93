"""``hub registry``: departments, their clients and keys, and the hub's signing keys.

hub registry migrate                              create or upgrade the registry tables
hub registry add-department NAME --title TITLE [--jurisdiction 1302]   (GB/T 2260 prefix; none = whole city)
hub registry keygen PATH                          a client key pair: PATH (private), PATH.pub.json
hub registry add-client DEPARTMENT NAME --jwk PUBLIC.json   (what it reads: `hub grants`)
hub registry list
hub registry disable CLIENT_ID | enable CLIENT_ID
hub registry disable-department NAME | enable-department NAME   (all its clients, their tokens die)
hub registry add-key CLIENT_ID --jwk PUBLIC.json   (rotation: add the new key ...)
hub registry remove-key CLIENT_ID KID              (... then, once the system uses it, remove the old)
hub registry set-limits CLIENT_ID --rate N --burst N [--cost-per-minute N] [--cost-per-day N] | --defaults
hub registry rotate-signing-keys                  next -> active -> retired
hub registry new-key-encryption-key               a value for HUB_KEY_ENCRYPTION_KEY

Each change is on the admin log (as in the console), by the OS user or --as NAME, role operator.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from hub.fairuse.limits import ClientLimits, LimitsError
from hub.commands.settings import command_settings
from hub.grants import Actor
from hub.registry import RegistryService
from hub.settings import Settings
from hub.store import Registry, RegistryError, Sealer, SigningKeys, connect, migrate
from hub.store.admin_log import Entry, Noted, noting
from hub.store.sealing import new_key_encryption_key
from hub.store.signing_keys import retention_for

# Signing keys come from a function: only the actions that touch them need the key-encryption key.
Keys = Callable[[], SigningKeys]
WHY = "hub registry"  # the admin log's "why" of every change made by this command
Action = Callable[[argparse.Namespace, Settings, Registry, Keys], Awaitable[int]]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "registry",
        help="departments, clients, keys",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, help="settings file (TOML); default: $HUB_CONFIG")
    parser.add_argument("--as", dest="username", default=None, help="the operator's name (default: OS user)")
    sub = parser.add_subparsers(metavar="ACTION", required=True)
    _add(sub, "migrate", _migrate, "create or upgrade the registry tables")
    dept = _add(sub, "add-department", _add_department, "register a department")
    dept.add_argument("name")
    dept.add_argument("--title", required=True)
    dept.add_argument("--jurisdiction", default="", help="GB/T 2260 prefix of its region (default: whole city)")
    client = _add(sub, "add-client", _add_client, "register a client from its public JWK")
    client.add_argument("department")
    client.add_argument("name")
    client.add_argument("--jwk", type=Path, required=True, help="the client's public JWK (JSON file)")
    client.add_argument("--scope", action="append", default=[], help=argparse.SUPPRESS)  # moved to grants
    _add(sub, "list", _list, "list departments and clients")
    for name, status in (("disable", "disabled"), ("enable", "active")):
        _add(sub, name, _status(status), f"{name} a client").add_argument("client_id")
    for name, status in (("disable-department", "disabled"), ("enable-department", "active")):
        verb = name.split("-")[0]
        _add(sub, name, _department_status(status), f"{verb} a department and all its clients").add_argument(
            "name"
        )
    add_key = _add(sub, "add-key", _add_key, "add a public key to a client (rotation)")
    add_key.add_argument("client_id")
    add_key.add_argument("--jwk", type=Path, required=True)
    remove_key = _add(sub, "remove-key", _remove_key, "remove a client's key by kid")
    remove_key.add_argument("client_id")
    remove_key.add_argument("kid")
    limits = _add(sub, "set-limits", _set_limits, "a client's own rate limit and cost budgets (fair use)")
    limits.add_argument("client_id")
    limits.add_argument("--rate", type=float, help="requests per second")
    limits.add_argument("--burst", type=int, help="requests at once (the bucket's size)")
    limits.add_argument("--cost-per-minute", type=int, default=0, help="0 (default): no budget")
    limits.add_argument("--cost-per-day", type=int, default=0, help="0 (default): no budget")
    limits.add_argument("--defaults", action="store_true", help="back to the settings' defaults")
    scopes = _add(sub, "set-scopes", _set_scopes, "(gone: scopes come from grants, see `hub grants`)")
    scopes.add_argument("client_id")
    scopes.add_argument("--scope", action="append", default=[], help=argparse.SUPPRESS)
    _add(sub, "rotate-signing-keys", _rotate, "rotate the hub's signing keys")
    sub.add_parser("new-key-encryption-key", help="print a new HUB_KEY_ENCRYPTION_KEY").set_defaults(
        run=lambda args: print(new_key_encryption_key()) or 0
    )
    keygen = sub.add_parser("keygen", help="make a client key pair (P-256)")
    keygen.add_argument("path", type=Path)
    keygen.set_defaults(run=_keygen)


def _add(sub: Any, name: str, action: Action, help: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help)
    parser.set_defaults(run=lambda args: asyncio.run(_with_registry(args, action)))
    return parser


async def _with_registry(args: argparse.Namespace, action: Action) -> int:
    settings = command_settings(args.config)
    engine = connect(settings.registry_url)
    try:
        await migrate(engine)
        retention = retention_for(settings.access_token_minutes)
        return await action(
            args,
            settings,
            Registry(engine),
            lambda: SigningKeys(engine, Sealer.from_settings(settings), retention=retention),
        )
    finally:
        await engine.dispose()


def _operator(args: argparse.Namespace) -> Actor:
    """Who acts: the operator at the terminal, by the OS user's name or ``--as``."""
    return Actor(args.username or getpass.getuser(), "operator")


def _service(registry: Registry) -> RegistryService:
    """The registry's changes (``hub.registry``), each on the admin log as made from ``hub registry``."""
    return RegistryService(registry, why=WHY)


def _noted(args: argparse.Namespace, entry: Entry) -> Noted:
    """The admin-log entry of a change made here outside the registry service (signing keys, gateways)."""
    return noting(_operator(args).username, "operator", entry, why=WHY)


async def _migrate(args: argparse.Namespace, settings: Settings, registry: Registry, keys: Keys) -> int:
    await keys().ensure()
    print(f"registry at {_shown(settings.registry_url)} is up to date")
    return 0


async def _add_department(
    args: argparse.Namespace, settings: Settings, registry: Registry, keys: Keys
) -> int:
    department = await _service(registry).add_department(_operator(args), args.name, args.title, args.jurisdiction)
    where = f", jurisdiction {department.jurisdiction}" if department.jurisdiction else ""
    print(f"department {department.name} ({department.title}{where}) registered")
    return 0


async def _add_client(args: argparse.Namespace, settings: Settings, registry: Registry, keys: Keys) -> int:
    if args.scope:
        raise RegistryError(_GRANTS_NOW)
    client = await _service(registry).register_client(_operator(args), args.department, args.name, _read_jwk(args.jwk))
    print(client.client_id)
    return 0


async def _list(args: argparse.Namespace, settings: Settings, registry: Registry, keys: Keys) -> int:
    for department in await registry.departments():
        suffix = "" if department.status == "active" else f"  ({department.status})"
        print(f"{department.name}: {department.title}{suffix}")
        for client in await registry.clients(department.name):
            kids = ", ".join(k["kid"] for k in client.keys)
            print(f"  {client.client_id}  {client.status}  {client.name}  keys: {kids}")
            print(f"    granted now: {' '.join(sorted(client.scopes)) or '(none)'}")
    return 0


def _status(status: str) -> Action:
    async def run(args: argparse.Namespace, settings: Settings, registry: Registry, keys: Keys) -> int:
        client = await _service(registry).set_client_status(_operator(args), args.client_id, status)
        print(f"{client.client_id} is {client.status}")
        return 0

    return run


def _department_status(status: str) -> Action:
    async def run(args: argparse.Namespace, settings: Settings, registry: Registry, keys: Keys) -> int:
        department = await _service(registry).set_department_status(_operator(args), args.name, status)
        print(f"department {department.name} is {department.status}")
        return 0

    return run


async def _add_key(args: argparse.Namespace, settings: Settings, registry: Registry, keys: Keys) -> int:
    client = await _service(registry).add_key(_operator(args), args.client_id, _read_jwk(args.jwk))
    print(f"{client.client_id} keys: {', '.join(k['kid'] for k in client.keys)}")
    return 0


_GRANTS_NOW = (
    "a client's scopes come from its grants: hub grants grant CLIENT_ID --scope SCOPE --purpose PURPOSE "
    "--legal-basis TEXT --days N (or hub grants request, for a department's steward to approve)"
)


async def _set_scopes(args: argparse.Namespace, settings: Settings, registry: Registry, keys: Keys) -> int:
    raise RegistryError(_GRANTS_NOW)


async def _remove_key(args: argparse.Namespace, settings: Settings, registry: Registry, keys: Keys) -> int:
    client = await _service(registry).remove_key(_operator(args), args.client_id, args.kid)
    print(f"{client.client_id} keys: {', '.join(k['kid'] for k in client.keys)}")
    return 0


async def _set_limits(args: argparse.Namespace, settings: Settings, registry: Registry, keys: Keys) -> int:
    if args.defaults:
        limits = None
    elif args.rate is None or args.burst is None:
        raise RegistryError("name --rate and --burst (or --defaults)")
    else:
        try:
            limits = ClientLimits(args.rate, args.burst, args.cost_per_minute, args.cost_per_day).checked()
        except LimitsError as exc:
            raise RegistryError(str(exc)) from None
    client = await _service(registry).set_limits(_operator(args), args.client_id, limits)
    shown = client.limits or settings.fair_use.defaults
    which = "its own" if client.limits else "the settings' defaults"
    print(
        f"{client.client_id}: {which}: {shown.rate:g} requests/s, bursts of {shown.burst}, "
        f"cost {shown.cost_per_minute or 'unlimited'}/minute, {shown.cost_per_day or 'unlimited'}/day"
    )
    return 0


async def _rotate(args: argparse.Namespace, settings: Settings, registry: Registry, keys: Keys) -> int:
    signing_keys = keys()
    await signing_keys.ensure()
    rotated = await signing_keys.rotate(noted=_noted(args, lambda kid: ("signing_key.rotate", kid, {})))
    print(f"signing key {rotated} is now active")
    return 0


def _read_jwk(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RegistryError(f"cannot read a JWK from {path}: {exc}") from None
    if not isinstance(value, dict):
        raise RegistryError(f"{path} does not hold a JWK object")
    return value


def register_demo_clients(settings: Settings, directory: Path) -> list[Path]:
    """One client per demo department, granted through the grant service (``hub.commands.demo_clients``)."""
    from hub.commands.demo_clients import register_demo_clients as register

    return register(settings, directory)


def _shown(url: str) -> str:
    """The database URL as printed: never its password."""
    return make_url(url).render_as_string(hide_password=True)


def _write_private(path: Path, value: dict[str, Any]) -> None:
    """A new file, created owner-only (0600) in one step: the key is never readable by others,
    not even between a write and a chmod. An existing file is not overwritten (FileExistsError)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(value, indent=2))


def _keygen(args: argparse.Namespace) -> int:
    from hub.client import new_client_key

    private = new_client_key()
    public = {k: v for k, v in private.items() if k != "d"}
    try:
        _write_private(args.path, private)
    except FileExistsError:
        print(f"hub registry: {args.path} exists; not overwriting a key file")
        return 1
    public_path = args.path.with_suffix(".pub.json")
    public_path.write_text(json.dumps(public, indent=2))
    print(f"private key {args.path} (keep it), public key {public_path} (give it to the hub operator)")
    return 0
