"""The hub in production settings, in-process, with a registry of its own and real keys.

``registry_url`` is parametrised over SQLite and PostgreSQL (a database of this suite's own on
the run's server); ``OAuthHub`` offers what a test needs to act as a department system: register
a client, get a token with ``HubAuth``, or hand-craft assertions, proofs and tokens to break them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc.jwk import ECKey

from hub.app import create_app
from hub.composition import Hub
from hub.client import HubAuth, new_client_key
from hub.grants import Actor, Catalogue, Grant, GrantService, load_grant_catalogue
from hub.oauth import jws
from hub.oauth.rfc9449 import access_token_hash
from hub.settings import Settings, load_settings
from hub.store.sealing import new_key_encryption_key
from tests.conftest import RUN_ID, migrated_sqlite, postgres_database

ISSUER = "https://hub.test"
RESOURCE = f"{ISSUER}/graphql"
TOKEN_URL = f"{ISSUER}/oauth/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SCOPE = "market.enterprise:read"
OPERATOR = Actor("test-operator", "operator")
_CATALOGUE: list[Catalogue] = []


def grant_catalogue() -> Catalogue:
    """The real catalogue of the policy files (loaded once: it builds the graph)."""
    if not _CATALOGUE:
        _CATALOGUE.append(load_grant_catalogue(load_settings().policies_dir))
    return _CATALOGUE[0]


@pytest.fixture(params=["sqlite", "postgres"])
def registry_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The test's own registry database, already migrated (made from the run's migrated one)."""
    if request.param == "sqlite":
        return migrated_sqlite(tmp_path)
    return str(request.getfixturevalue("oauth_postgres_url"))


@pytest.fixture
async def oauth_postgres_url(postgres_url: str, postgres_template: str) -> AsyncIterator[str]:
    """A database of this suite's own on the run's PostgreSQL server (``postgres_url``), made
    migrated from ``postgres_template``."""
    name = f"hub_oauth_{RUN_ID}_{uuid.uuid4().hex[:6]}"
    async with postgres_database(postgres_url, name, template=postgres_template) as url:
        yield url


def production_settings(database_url: str, demo_data_dir: Path, **overrides: Any) -> Settings:
    overrides.setdefault("single_process", True)  # one in-process hub per test, declared as production requires
    overrides.setdefault("key_encryption_key", new_key_encryption_key())
    return load_settings(
        environment="production",
        issuer=ISSUER,
        database_url=database_url,
        demo_data_dir=demo_data_dir,
        **overrides,
    )


@dataclass
class Registered:
    client_id: str
    key: dict[str, Any]  # private JWK
    department: str

    def auth(self, scope: str = SCOPE) -> HubAuth:
        return HubAuth(TOKEN_URL, self.client_id, self.key, RESOURCE, scope)


class OAuthHub:
    def __init__(self, http: httpx.AsyncClient, hub: Hub) -> None:
        self.http = http
        self.hub = hub
        self.server = hub.oauth

    async def registry(self) -> Any:
        return self.server.parts.registry

    async def grants(self) -> GrantService:
        """The grant workflow on this hub's registry, at the authorization server's clock."""
        return GrantService(self.server.parts.engine, grant_catalogue(), self.server.clock)

    async def department(self, name: str) -> None:
        registry = await self.registry()
        if name not in {d.name for d in await registry.departments()}:
            await registry.add_department(name, name.title())

    async def register(
        self,
        department: str = "market",
        scopes: frozenset[str] = frozenset({SCOPE}),
        purposes: tuple[str, ...] = ("licensing",),
    ) -> Registered:
        """A client of ``department`` granted ``scopes`` for ``purposes`` by the operator."""
        await self.department(department)
        key = new_client_key()
        public = {k: v for k, v in key.items() if k != "d"}
        client = await (await self.registry()).register_client(department, f"{department} system", public)
        await self.grant(client.client_id, scopes, purposes)
        return Registered(client.client_id, key, department)

    async def grant(
        self, client_id: str, scopes: frozenset[str], purposes: tuple[str, ...] = ("licensing",), days: int = 30
    ) -> list[Grant]:
        """One grant per owning department of ``scopes`` (each owner registered first)."""
        service, by_owner = await self.grants(), dict[str, set[str]]()
        for scope in scopes:
            by_owner.setdefault(scope.split(".", 1)[0], set()).add(scope)
        granted = []
        for owner, owned in sorted(by_owner.items()):
            await self.department(owner)
            granted.append(await service.grant_now(OPERATOR, client_id, owned, purposes, "test fixture", days))
        return granted

    def assertion(self, client: Registered, header: dict[str, Any] | None = None, **claims: Any) -> str:
        now = int(time.time())
        body = {
            "iss": client.client_id,
            "sub": client.client_id,
            "aud": ISSUER,
            "iat": now,
            "exp": now + 60,
            "jti": secrets.token_urlsafe(16),
            **claims,
        }
        body = {k: v for k, v in body.items() if v is not None}
        head = {"kid": client.key["kid"], **(header or {})}
        return jws.sign(head, body, ECKey.import_key(client.key))

    def token_form(self, client: Registered, assertion: str | None = None, **params: Any) -> dict[str, Any]:
        form = {
            "grant_type": "client_credentials",
            "scope": SCOPE,
            "resource": RESOURCE,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion or self.assertion(client),
            **params,
        }
        return {k: v for k, v in form.items() if v is not None}

    async def token_response(
        self, form: dict[str, Any], dpop_key: dict[str, Any] | None = None
    ) -> httpx.Response:
        key = dpop_key or new_client_key()
        return await self.http.post(TOKEN_URL, data=form, headers={"DPoP": proof(key, "POST", TOKEN_URL)})

    async def token(self, client: Registered, dpop_key: dict[str, Any]) -> str:
        response = await self.token_response(self.token_form(client), dpop_key)
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    async def graphql(
        self, token: str | None, dpop_key: dict[str, Any] | None, **headers: str
    ) -> httpx.Response:
        sent = dict(headers)
        if token is not None:
            sent.setdefault("Authorization", f"DPoP {token}")
        if dpop_key is not None:
            sent.setdefault("DPoP", proof(dpop_key, "POST", RESOURCE, token))
        return await self.http.post(RESOURCE, json={"query": "{ __typename }"}, headers=sent)


def proof(
    key: dict[str, Any],
    method: str,
    url: str,
    token: str | None = None,
    header: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    public = {k: key[k] for k in ("kty", "crv", "x", "y")}
    body: dict[str, Any] = {
        "jti": secrets.token_urlsafe(16),
        "htm": method,
        "htu": url,
        "iat": int(time.time()),
    }
    if token is not None:
        body["ath"] = access_token_hash(token)
    body = {k: v for k, v in {**body, **claims}.items() if v is not None}
    return jws.sign({"typ": "dpop+jwt", "jwk": public, **(header or {})}, body, ECKey.import_key(key))


@asynccontextmanager
async def open_oauth_hub(settings: Settings) -> AsyncIterator[OAuthHub]:
    app = create_app(settings)
    hub: Hub = app.state.hub
    await hub.database.open()  # as the lifespan would, before the fixtures write to the registry
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ISSUER) as http:
            yield OAuthHub(http, hub)
    finally:
        await hub.aclose()


@pytest.fixture
async def oauth(tmp_path: Path, demo_data_dir: Path) -> AsyncIterator[OAuthHub]:
    """The hub on SQLite (the suites that run on both databases use ``registry_url``)."""
    settings = production_settings(migrated_sqlite(tmp_path), demo_data_dir)
    async with open_oauth_hub(settings) as hub:
        yield hub


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(header: dict[str, Any], claims: dict[str, Any], sign: Any = None) -> str:
    """A compact JWS built by hand (for forgeries joserfc rightly refuses to make)."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = sign(signing_input.encode()) if sign is not None else b""
    return f"{signing_input}.{b64(signature)}"


def hs256_with(secret: bytes) -> Any:
    return lambda data: hmac.new(secret, data, hashlib.sha256).digest()


def es256_with(key: ECKey) -> Any:
    """A raw ES256 signer (r || s), for validly signed tokens joserfc would not build."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    def sign(data: bytes) -> bytes:
        r, s = decode_dss_signature(key.private_key.sign(data, ec.ECDSA(hashes.SHA256())))  # type: ignore[union-attr]
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    return sign


def claims_of(token: str) -> dict[str, Any]:
    return jws.parts(token)[1]


async def forge(oauth: OAuthHub, token: str, header: dict[str, Any] | None = None, **claims: Any) -> str:
    """The token re-signed by the hub's own active key with changed claims or header."""
    kid, key = await oauth.server.parts.keyring.store.active_private()
    body = {k: v for k, v in {**claims_of(token), **claims}.items() if v is not None}
    head = {k: v for k, v in {"typ": "at+jwt", "kid": kid, **(header or {})}.items() if v is not None}
    return jws.sign(head, body, key)


@dataclass
class Session:
    """A registered client holding a token bound to its DPoP key."""

    client: Registered
    dpop_key: dict[str, Any]
    token: str


@pytest.fixture
async def session(oauth: OAuthHub) -> Session:
    client = await oauth.register()
    dpop_key = new_client_key()
    return Session(client, dpop_key, await oauth.token(client, dpop_key))


def refused(response: httpx.Response, status: int, error: str) -> str:
    """Assert an RFC 6750 / RFC 9449 refusal; returns the error_description."""
    assert response.status_code == status, response.text
    assert response.json()["error"] == error, response.text
    if status == 401:
        challenge = response.headers["www-authenticate"]
        assert (
            challenge.startswith("DPoP ") and f'error="{error}"' in challenge and 'algs="ES256"' in challenge
        )
    return str(response.json()["error_description"])
