"""The authorization server composed from its RFC parts, on the database the app opened.

The cores are wired when the server is built, on the engine of the app's ``hub.store.owner.Database``
(which migrates or checks the registry and makes the first signing keys when it opens); building
it touches no database and no key file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from hub.oauth.clock import Clock
from hub.oauth.errors import InvalidToken
from hub.oauth.keyring import KeyRing
from hub.oauth.live import LiveClients
from hub.oauth.replay import ReplayCache, build_replay_cache
from hub.oauth.rfc7009 import Revocation
from hub.oauth.rfc7523 import ClientAuthenticator
from hub.oauth.rfc7662 import Introspection
from hub.oauth.rfc9068 import AccessTokens
from hub.oauth.rfc9449 import DPoPVerifier, Nonces
from hub.oauth.token_endpoint import TokenEndpoint
from hub.settings import Settings, SettingsError
from hub.store import ClientRecord, Registry, SigningKeys
from hub.store.owner import Database
from hub.store.signing_keys import retention_for


@dataclass
class Parts:
    engine: AsyncEngine
    registry: Registry
    keyring: KeyRing
    replay: ReplayCache
    tokens: AccessTokens
    dpop: DPoPVerifier
    token: TokenEndpoint
    introspection: Introspection
    revocation: Revocation
    live: LiveClients


def check_production(settings: Settings) -> None:
    """What a production hub needs before it serves a token; each message says what to set.

    ``build_hub`` checks before it builds anything, so no way of starting the app runs a
    half-configured production hub; the server checks again when it opens.
    """
    if settings.development:
        return
    if not settings.key_encryption_key:
        raise SettingsError(
            "production needs HUB_KEY_ENCRYPTION_KEY (32 random bytes, base64url; make one with "
            "`hub registry new-key-encryption-key`) to seal the signing keys"
        )
    if not settings.issuer or not settings.issuer.startswith("https://"):
        raise SettingsError("production needs HUB_ISSUER, the hub's https:// URL (the OAuth issuer)")
    if not settings.database_url:
        raise SettingsError("production needs HUB_DATABASE_URL (the registry, e.g. postgresql+asyncpg://...)")
    if settings.replay_cache_url == "memory" and not settings.single_process:
        raise SettingsError(
            "production needs HUB_REPLAY_CACHE_URL=redis://... (the DPoP replay cache every replica shares), "
            "or HUB_SINGLE_PROCESS=true to declare that exactly one hub process serves this registry"
        )


class AuthorizationServer:
    def __init__(self, settings: Settings, catalogue: frozenset[str], database: Database) -> None:
        check_production(settings)
        self.settings = settings
        self.catalogue = catalogue
        self.issuer = settings.oauth_issuer
        self.resource = settings.oauth_resource
        self.clock = Clock()
        self.parts = self._wire(database)

    def _wire(self, database: Database) -> Parts:
        settings, engine = self.settings, database.engine
        keys = SigningKeys(engine, database.sealer, retention=retention_for(settings.access_token_minutes))
        registry, keyring = Registry(engine, self.clock.now), KeyRing(keys)  # grants live by this clock
        replay = build_replay_cache(
            settings.replay_cache_url, prefix=settings.replay_cache_prefix, timeout=settings.redis_timeout,
            started=self.clock.now(),
        )
        nonces = Nonces(database.sealer.derive("dpop-nonce"), self.clock) if settings.dpop_nonce else None
        dpop = DPoPVerifier(replay, self.clock, nonces)
        tokens = AccessTokens(
            keyring, self.issuer, self.resource, settings.access_token_minutes * 60, self.clock
        )
        clients = ClientAuthenticator(registry, self.issuer, self.clock)
        return Parts(
            engine,
            registry,
            keyring,
            replay,
            tokens,
            dpop,
            TokenEndpoint(clients, dpop, tokens, self.catalogue),
            Introspection(clients, self.live_claims),
            Revocation(clients, tokens, registry),
            LiveClients(registry, engine, self.clock.now),
        )

    async def live(self, token: str) -> tuple[dict[str, Any], ClientRecord]:
        """A token valid now (signed, in date, not revoked, its client active), and its client."""
        parts = self.parts
        claims = await parts.tokens.validate(token)
        revoked, client = await parts.live.read(claims["jti"], claims["client_id"])
        if revoked:
            raise InvalidToken("access token: revoked")
        if client is None or not client.active or claims["iat"] < client.cutoff:
            raise InvalidToken("access token: its client or its department is disabled")
        return claims, client

    async def live_claims(self, token: str) -> dict[str, Any]:
        """The live token's claims, its ``scope`` cut to what the client's grants hold now: a grant
        revoked or expired since issue takes effect at once, so introspection (RFC 7662) reports
        what the token can still do, not what it could when it was issued."""
        claims, client = await self.live(token)
        held = [scope for scope in str(claims.get("scope", "")).split() if scope in client.scopes]
        return {**claims, "scope": " ".join(held)}

    async def aclose(self) -> None:
        """The replay cache's connections and the live check's reader; the database is its owner's to close."""
        await self.parts.replay.aclose()
        self.parts.live.close()
