"""The demo's people: one console account per role, with generated passwords written to
``.demo/accounts.txt`` (owner-only). Idempotent: a run keeps the accounts and passwords of the
last one; an account whose password is not in the file gets a new one.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from hub.accounts.store import Accounts
from hub.settings import Settings
from hub.store import Registry, connect, migrate

# username -> (role, department, display name)
DEMO_PEOPLE = {
    "operator": ("operator", None, "Hub Operator"),
    "market-steward": ("steward", "market", "Market Regulation data steward"),
    "ecology-steward": ("steward", "ecology", "Ecology and Environment data steward"),
    "auditor": ("auditor", None, "Auditor"),
    "developer": ("developer", "market", "Market system developer"),
}


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    role: str
    department: str | None
    password: str


def create_demo_accounts(settings: Settings, path: Path) -> list[DemoAccount]:
    return asyncio.run(_create(settings, path))


def _read(path: Path) -> dict[str, str]:
    passwords: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) >= 3 and not line.startswith("#"):
                passwords[parts[0]] = parts[-1]
    return passwords


async def _create(settings: Settings, path: Path) -> list[DemoAccount]:
    engine = connect(settings.registry_url)
    try:
        await migrate(engine)
        accounts, registry = Accounts(engine), Registry(engine)
        known = _read(path)
        market_clients = frozenset(c.client_id for c in (await registry.clients("market"))[:1])
        made: list[DemoAccount] = []
        for username, (role, department, name) in DEMO_PEOPLE.items():
            password = known.get(username) or secrets.token_urlsafe(12)
            if await accounts.get(username) is None:
                clients = market_clients if role == "developer" else frozenset()
                await accounts.create(username, name, role, password, department, clients)
            elif username not in known:
                await accounts.set_password(username, password)
            made.append(DemoAccount(username, role, department, password))
    finally:
        await engine.dispose()
    _write(path, made)
    return made


def _write(path: Path, made: list[DemoAccount]) -> None:
    lines = ["# username  role  department  password  (the demo console: /admin/signin)"]
    lines += [f"{a.username}  {a.role}  {a.department or '-'}  {a.password}" for a in made]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def announce_demo_accounts(settings: Settings, path: Path) -> None:
    """Create (or keep) the demo accounts and say how to sign in."""
    made = create_demo_accounts(settings, path)
    print(f"Console: http://{settings.host}:{settings.port}/admin/  accounts and passwords in {path}:")
    for account in made:
        where = f" of {account.department}" if account.department else ""
        print(f"  {account.username:16} {account.role}{where}")
