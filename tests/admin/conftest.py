"""The hub in production settings, in-process, with accounts of every role, and a signed-in ``Person``.

``Person`` is what a browser does without the browser: it keeps cookies (only sent over https, as
the console's cookies are Secure), sends the console's Origin, reads the CSRF field from the sign-in
page and posts the form. ``console_url`` runs over SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from hub.accounts.store import Accounts
from hub.app import create_app
from hub.client import new_client_key
from hub.settings import load_settings
from hub.store import Registry
from hub.store.sealing import new_key_encryption_key
from tests.conftest import RUN_ID, migrated_sqlite, postgres_database

ORIGIN = "https://hub.test"
PASSWORD = "correct horse battery staple"
# username -> (role, department, display name)
PEOPLE = {
    "olga": ("operator", None, "Olga Operator"),
    "mei": ("steward", "market", "Mei Market-Steward"),
    "eli": ("steward", "ecology", "Eli Ecology-Steward"),
    "ada": ("auditor", None, "Ada Auditor"),
    "dev": ("developer", "market", "Dev Developer"),
}
_CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


_HASHES: dict[str, str] = {}


@pytest.fixture(autouse=True)
def argon2_once_per_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real Argon2id hashes, made once per password for the whole run (each costs ~0.4 s here);
    every sign-in still verifies against a real hash."""
    from hub.accounts import credentials
    from hub.accounts import store as accounts

    def hash_once(password: str) -> str:
        if password not in _HASHES:
            _HASHES[password] = credentials.hash_password(password)
        return _HASHES[password]

    monkeypatch.setattr(accounts, "hash_password", hash_once)


def sqlite_url(tmp_path: Path) -> str:
    """The test's own registry, already migrated (``migrated_sqlite``)."""
    return migrated_sqlite(tmp_path)


@pytest.fixture(params=["sqlite", "postgres"])
def console_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Both stores for the access rules and the stores' own tests; the page-by-page suites override
    this with SQLite alone (their SQL is the same calls, already run on both here)."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return str(request.getfixturevalue("console_postgres_url"))


@pytest.fixture
async def console_postgres_url(postgres_url: str, postgres_template: str) -> AsyncIterator[str]:
    name = f"hub_admin_{RUN_ID}_{uuid.uuid4().hex[:6]}"
    async with postgres_database(postgres_url, name, template=postgres_template) as url:
        yield url


@dataclass
class Console:
    app: Starlette
    accounts: Accounts
    registry: Registry
    market_client: str
    ecology_client: str

    def person(self, language: str = "en") -> Person:
        """A browser asking for ``language`` (the suites assert English text unless they say otherwise)."""
        return Person(httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url=ORIGIN,
            headers={"origin": ORIGIN, "accept-language": language},
        ))

    async def signed_in(self, username: str, password: str = PASSWORD, language: str = "en") -> Person:
        """Signed in, with the console switched to ``language`` on the account (Chinese by default)."""
        person = self.person(language)
        response = await person.sign_in(username, password)
        assert response.status_code == 303, response.text
        if language != "zh":
            switched = await person.form("/admin/language", {"language": language, "next": "/admin/"})
            assert switched.status_code == 303, switched.text
        return person


@dataclass
class Person:
    http: httpx.AsyncClient

    async def sign_in(self, username: str, password: str) -> httpx.Response:
        page = await self.http.get("/admin/signin")
        return await self.http.post("/admin/signin", data={
            "csrf": csrf_field(page.text), "username": username, "password": password, "next": "/admin/",
        })

    async def csrf(self) -> str:
        return str((await self.http.get("/admin/api/me")).json()["csrf_token"])

    async def api(self, method: str, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        headers = {"x-csrf-token": await self.csrf()} if method != "GET" else {}
        return await self.http.request(method, f"/admin/api{path}", json=body, headers=headers, **kwargs)

    async def form(self, path: str, data: dict[str, str], **kwargs: Any) -> httpx.Response:
        page = await self.http.get("/admin/")
        return await self.http.post(path, data={"csrf": csrf_field(page.text), **data}, **kwargs)


def csrf_field(html: str) -> str:
    found = _CSRF_FIELD.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def public_jwk() -> dict[str, Any]:
    return {k: v for k, v in new_client_key().items() if k != "d"}


@pytest.fixture
async def console(console_url: str, demo_data_dir: Path) -> AsyncIterator[Console]:
    settings = load_settings(
        environment="production", issuer=ORIGIN, database_url=console_url, demo_data_dir=demo_data_dir,
        single_process=True, key_encryption_key=new_key_encryption_key(),
    )
    app = create_app(settings)
    await app.state.hub.database.open()  # as the lifespan would, before the fixtures write to the registry
    parts = app.state.hub.oauth.parts
    registry, accounts = parts.registry, Accounts(parts.engine)
    await registry.add_department("market", "Market Regulation", "1302")
    await registry.add_department("ecology", "Ecology and Environment")
    market = await registry.register_client("market", "licensing system", public_jwk())
    ecology = await registry.register_client("ecology", "permits system", public_jwk())
    for username, (role, department, name) in PEOPLE.items():
        clients = frozenset({market.client_id}) if role == "developer" else frozenset()
        await accounts.create(username, name, role, PASSWORD, department, clients)
    try:
        yield Console(app, accounts, registry, market.client_id, ecology.client_id)
    finally:
        await app.state.hub.aclose()
