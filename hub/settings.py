"""The hub's one typed settings object, read once at start-up and validated fail-closed.

Sources, in order of precedence: keyword overrides (tests, the CLI), ``HUB_*`` environment
variables, the TOML file named by ``HUB_CONFIG`` (or passed as ``config_file``), defaults.
Department sources come from the bindings in ``connectors/departments/``; ``[sources.<department>]``
in the settings file points one at the department's real system (url, timeout, cache_ttl).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from hub.fairuse.limits import FairUseSettings, LimitsError
from hub.graphql.limits import Limits

PROJECT_ROOT = Path(__file__).resolve().parent.parent
Environment = Literal["development", "production"]


class SettingsError(ValueError):
    """Settings that must not start the hub; the message says what to set."""


@dataclass(frozen=True)
class SourceSettings:
    url: str | None = None
    timeout: float | None = None
    cache_ttl: float | None = None


@dataclass(frozen=True)
class Settings:
    environment: Environment = "production"
    host: str = "127.0.0.1"
    port: int = 8000
    demo_data_dir: Path = PROJECT_ROOT / ".demo" / "data"
    bindings_dir: Path = PROJECT_ROOT / "connectors" / "departments"
    policies_dir: Path = PROJECT_ROOT / "policies"
    sources: dict[str, SourceSettings] = field(default_factory=dict)
    # "memory" (in-process, one machine) or a redis:// URL (shared by every replica).
    cache_url: str = "memory"
    cache_prefix: str = "hub:cache:"
    cache_max_entries: int = 200_000
    graphiql: bool | None = None  # None: on in development, off in production
    introspection: bool | None = None  # None: on in development, off in production
    graphiql_assets_dir: Path = PROJECT_ROOT / ".demo" / "graphiql"
    max_page_size: int = 1000
    # Lists of plain record fields completed by plan (hub/graphql/compiled); off: graphql-core's own path.
    compiled_execution: bool = True
    # Operation limits at the GraphQL edge (``[limits]`` in the settings file); README "Limits".
    limits: Limits = field(default_factory=Limits)
    # Token that the CLI presents to /ops (cache invalidation); None disables /ops.
    ops_token: str | None = None
    # The date "expiring within N days" counts from; None means the real today.
    today: dt.date | None = None
    log_level: str = "INFO"
    # "text" (a line for people) or "json" (a JSON object per line with request and trace ids).
    log_format: str = "text"
    # OAuth (hub/oauth) and the registry (hub/store); see README "Tokens".
    # None: SQLite at <state_dir>/hub.sqlite in development; production must name one.
    database_url: str | None = None
    state_dir: Path = PROJECT_ROOT / ".demo"
    # 32 random bytes, base64url: seals the signing keys' private halves at rest.
    key_encryption_key: str | None = None
    issuer: str | None = None  # None: http://host:port in development; production must name it
    resource: str | None = None  # the RFC 8707 resource identifier; None: <issuer>/graphql
    access_token_minutes: int = 5
    dpop_nonce: bool = False
    # The disclosure audit (hub/audit) lives in the registry database; a seal every this many records.
    audit_seal_every: int = 1000
    # Seconds a writer may sit idle holding the chain's lock mid-group before PostgreSQL ends its
    # session (a paused replica stalls the others no longer), and the most any group of appends,
    # lock wait included, may take before its requests fail closed with 503 AUDIT_UNAVAILABLE.
    audit_stall_timeout: float = 2.0
    audit_write_timeout: float = 10.0
    # "memory" (one process) or a redis:// URL: the DPoP proof jti replay cache.
    replay_cache_url: str = "memory"
    replay_cache_prefix: str = "hub:replay:"
    # Production with the in-process replay cache must declare that one process serves (HUB_SINGLE_PROCESS).
    single_process: bool = False
    # Development only: /graphql without a token (the embedded demo). Production refuses it.
    anonymous_access: bool = False
    # The admin console (hub/admin): a session ends after this long unused, or this long after sign-in.
    admin_idle_minutes: int = 30
    admin_session_hours: int = 8
    # Failed console sign-ins one address may make within 15 minutes (hub/admin/throttle.py).
    admin_address_failures: int = 20
    # Optional console sign-in through an OpenID Connect provider (hub/admin/oidc_pages.py); README "Console".
    oidc_enabled: bool = False
    oidc_issuer: str | None = None  # discovery at <issuer>/.well-known/openid-configuration
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_name: str = "OpenID Connect"  # shown on the button: "Sign in with <name>"
    oidc_scopes: str = "openid profile email"
    oidc_claim: str = "sub"  # the id_token claim whose value an operator links to an account
    # Schema migrations at start-up (None: in development only; production runs `hub migrate`).
    migrate_at_start: bool | None = None
    # Addresses or networks of the reverse proxies whose X-Forwarded-For / -Proto are believed
    # (none by default: the connection's peer is the client). README "Deploying".
    trusted_proxies: tuple[str, ...] = ()
    # Per-client rate limits, cost budgets and disclosure quotas (hub/fairuse); README "Fair use".
    fair_use: FairUseSettings = field(default_factory=FairUseSettings)
    # "memory" or a redis:// URL for the fair-use counters; None: the replay cache's (shared by every replica).
    fair_use_url: str | None = None
    fair_use_prefix: str = "hub:fair:"
    # "memory" or a redis:// URL where every replica adds its sources' health figures, so that each
    # replica's health page shows the same (hub/source_health_shared.py); None: the entity cache's
    # Redis, else the replay cache's, else this process alone.
    source_health_url: str | None = None
    # None: the prefix of the Redis it shares (the entity cache's or replay cache's) + "health:".
    source_health_prefix: str | None = None
    # When the hub's own dependencies fail (README "When things fail", hub/faults): seconds any one
    # registry or audit database call may take (connect, statement, lock wait, pool checkout), any
    # one Redis call, the Retry-After of a 503, and each department's circuit breaker.
    database_timeout: float = 5.0
    redis_timeout: float = 1.0
    retry_after_seconds: int = 2
    breaker_failures: int = 5
    breaker_reset_seconds: float = 5.0
    # TLS ending in the hub (``hub serve``): its certificate and key, and the CA that issues gateways'
    # client certificates (one asked for, optional: systems come with tokens). All three or none.
    tls_certificate: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = None

    @property
    def development(self) -> bool:
        return self.environment == "development"

    @property
    def migrates_at_start(self) -> bool:
        return self.development if self.migrate_at_start is None else self.migrate_at_start

    @property
    def introspection_enabled(self) -> bool:
        return self.development if self.introspection is None else self.introspection

    @property
    def graphiql_enabled(self) -> bool:
        return self.development if self.graphiql is None else self.graphiql

    def current_date(self) -> dt.date:
        return self.today or dt.date.today()

    @property
    def oauth_issuer(self) -> str:
        return self.issuer or f"http://{self.host}:{self.port}"

    @property
    def oauth_resource(self) -> str:
        return self.resource or f"{self.oauth_issuer}/graphql"

    @property
    def fair_use_store_url(self) -> str:
        return self.fair_use_url or self.replay_cache_url

    @property
    def source_health_store_url(self) -> str | None:
        """The Redis the sources' health is shared through; None: each process keeps its own."""
        if self.source_health_url is not None:
            return None if self.source_health_url == "memory" else self.source_health_url
        shared = [url for url, _ in self._redis_stores()]
        return shared[0] if shared else None

    @property
    def source_health_key_prefix(self) -> str:
        if self.source_health_prefix is not None:
            return self.source_health_prefix
        borrowed = [prefix for url, prefix in self._redis_stores() if url == self.source_health_store_url]
        return f"{borrowed[0]}health:" if borrowed else "hub:health:"

    def _redis_stores(self) -> list[tuple[str, str]]:
        stores = ((self.cache_url, self.cache_prefix), (self.replay_cache_url, self.replay_cache_prefix))
        return [(url, prefix) for url, prefix in stores if url.startswith(("redis://", "rediss://"))]

    @property
    def registry_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.state_dir / 'hub.sqlite'}"


_ENV_FIELDS = {
    "HUB_ENV": "environment",
    "HUB_HOST": "host",
    "HUB_PORT": "port",
    "HUB_DEMO_DATA": "demo_data_dir",
    "HUB_BINDINGS": "bindings_dir",
    "HUB_POLICIES": "policies_dir",
    "HUB_AUDIT_SEAL_EVERY": "audit_seal_every",
    "HUB_AUDIT_STALL_TIMEOUT": "audit_stall_timeout",
    "HUB_AUDIT_WRITE_TIMEOUT": "audit_write_timeout",
    "HUB_CACHE_URL": "cache_url",
    "HUB_CACHE_PREFIX": "cache_prefix",
    "HUB_GRAPHIQL": "graphiql",
    "HUB_INTROSPECTION": "introspection",
    "HUB_COMPILED_EXECUTION": "compiled_execution",
    "HUB_GRAPHIQL_ASSETS": "graphiql_assets_dir",
    "HUB_OPS_TOKEN": "ops_token",
    "HUB_TODAY": "today",
    "HUB_LOG_LEVEL": "log_level",
    "HUB_LOG_FORMAT": "log_format",
    "HUB_DATABASE_URL": "database_url",
    "HUB_STATE_DIR": "state_dir",
    "HUB_KEY_ENCRYPTION_KEY": "key_encryption_key",
    "HUB_ISSUER": "issuer",
    "HUB_RESOURCE": "resource",
    "HUB_ACCESS_TOKEN_MINUTES": "access_token_minutes",
    "HUB_DPOP_NONCE": "dpop_nonce",
    "HUB_REPLAY_CACHE_URL": "replay_cache_url",
    "HUB_REPLAY_CACHE_PREFIX": "replay_cache_prefix",
    "HUB_SINGLE_PROCESS": "single_process",
    "HUB_ANONYMOUS_ACCESS": "anonymous_access",
    "HUB_ADMIN_IDLE_MINUTES": "admin_idle_minutes",
    "HUB_ADMIN_SESSION_HOURS": "admin_session_hours",
    "HUB_ADMIN_ADDRESS_FAILURES": "admin_address_failures",
    "HUB_OIDC_ENABLED": "oidc_enabled",
    "HUB_OIDC_ISSUER": "oidc_issuer",
    "HUB_OIDC_CLIENT_ID": "oidc_client_id",
    "HUB_OIDC_CLIENT_SECRET": "oidc_client_secret",
    "HUB_OIDC_NAME": "oidc_name",
    "HUB_OIDC_SCOPES": "oidc_scopes",
    "HUB_OIDC_CLAIM": "oidc_claim",
    "HUB_MIGRATE_AT_START": "migrate_at_start",
    "HUB_TRUSTED_PROXIES": "trusted_proxies",
    "HUB_FAIR_USE_URL": "fair_use_url",
    "HUB_FAIR_USE_PREFIX": "fair_use_prefix",
    "HUB_SOURCE_HEALTH_URL": "source_health_url",
    "HUB_SOURCE_HEALTH_PREFIX": "source_health_prefix",
    "HUB_DATABASE_TIMEOUT": "database_timeout",
    "HUB_REDIS_TIMEOUT": "redis_timeout",
    "HUB_RETRY_AFTER_SECONDS": "retry_after_seconds",
    "HUB_BREAKER_FAILURES": "breaker_failures",
    "HUB_BREAKER_RESET_SECONDS": "breaker_reset_seconds",
    "HUB_TLS_CERTIFICATE": "tls_certificate",
    "HUB_TLS_KEY": "tls_key",
    "HUB_TLS_CLIENT_CA": "tls_client_ca",
}


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    raw: dict[str, Any] = {}
    path = config_file or (Path(os.environ["HUB_CONFIG"]) if os.environ.get("HUB_CONFIG") else None)
    if path is not None:
        try:
            raw.update(tomllib.loads(path.read_text(encoding="utf-8")))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"cannot read settings file {path}: {exc}") from None
    for env_name, name in _ENV_FIELDS.items():
        if env_name in os.environ:
            raw[name] = os.environ[env_name]
    raw.update(overrides)
    return _validate(_coerce(raw))


def _coerce(raw: dict[str, Any]) -> Settings:
    known = {f.name: f for f in fields(Settings)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise SettingsError(f"unknown settings: {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, value in raw.items():
        values[name] = _convert(name, value)
    return Settings(**values)


def _convert(name: str, value: Any) -> Any:
    try:
        if name in (
            "port", "max_page_size", "cache_max_entries", "access_token_minutes", "admin_idle_minutes",
            "admin_session_hours", "admin_address_failures", "audit_seal_every", "retry_after_seconds",
            "breaker_failures",
        ):
            return int(value)
        if name in ("database_timeout", "redis_timeout", "breaker_reset_seconds"):
            return float(value)
        if name in ("demo_data_dir", "bindings_dir", "policies_dir", "graphiql_assets_dir", "state_dir"):
            return Path(value)
        if name in ("dpop_nonce", "anonymous_access", "single_process", "oidc_enabled"):
            return value if isinstance(value, bool) else _bool(str(value))
        if name == "trusted_proxies":
            return trusted_networks(value)
        if name in ("graphiql", "introspection", "migrate_at_start"):
            return value if isinstance(value, bool) or value is None else _bool(str(value))
        if name in ("audit_stall_timeout", "audit_write_timeout"):
            if isinstance(value, bool):
                raise ValueError(f"{value!r} is not a number of seconds")
            return float(value)
        if name in ("tls_certificate", "tls_key", "tls_client_ca"):
            return None if value in (None, "") else Path(value)
        if name == "today":
            return value if isinstance(value, dt.date) or value is None else dt.date.fromisoformat(value)
        if name == "limits":
            return value.checked() if isinstance(value, Limits) else Limits.from_mapping(dict(value))
        if name == "fair_use":
            return value if isinstance(value, FairUseSettings) else FairUseSettings.from_mapping(dict(value))
        if name == "sources":
            return {dept: SourceSettings(**spec) for dept, spec in dict(value).items()}
    except (TypeError, ValueError, LimitsError) as exc:
        raise SettingsError(f"setting {name!r}: {exc}") from None
    return value


def trusted_networks(value: Any) -> tuple[str, ...]:
    """``HUB_TRUSTED_PROXIES``: comma-separated IP addresses or networks (CIDR), never a wildcard."""
    items = value.split(",") if isinstance(value, str) else list(value)
    networks = []
    for item in items:
        if not isinstance(item, str):
            raise TypeError("trusted proxies are IP addresses or networks, given as text")
        text = item.strip()
        if text:
            networks.append(str(ipaddress.ip_network(text, strict=False)))
    if len(networks) > 100:
        raise ValueError("at most 100 trusted proxy networks")
    return tuple(networks)


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{text!r} is not a boolean")


def _validate(settings: Settings) -> Settings:
    if settings.environment not in ("development", "production"):
        raise SettingsError("HUB_ENV must be 'development' or 'production'")
    if not settings.bindings_dir.is_dir():
        raise SettingsError(f"bindings directory {settings.bindings_dir} does not exist (set HUB_BINDINGS)")
    if not settings.policies_dir.is_dir():
        raise SettingsError(f"policies directory {settings.policies_dir} does not exist (set HUB_POLICIES)")
    if not settings.cache_url == "memory" and not settings.cache_url.startswith(("redis://", "rediss://")):
        raise SettingsError("HUB_CACHE_URL must be 'memory' or a redis:// URL")
    if settings.log_format not in ("text", "json"):
        raise SettingsError("HUB_LOG_FORMAT must be 'text' or 'json'")
    if not 1 <= settings.audit_seal_every <= 1_000_000:
        raise SettingsError("audit_seal_every must be between 1 and 1000000")
    if not 0.1 <= settings.audit_stall_timeout < settings.audit_write_timeout <= 600:
        raise SettingsError(
            "audit_stall_timeout must be at least 0.1 s and below audit_write_timeout, at most 600 s"
        )
    if not 1 <= settings.max_page_size <= 10_000:
        raise SettingsError("max_page_size must be between 1 and 10000")
    if settings.ops_token is not None and len(settings.ops_token) < 32:
        raise SettingsError("HUB_OPS_TOKEN must be at least 32 characters")
    _validate_oauth(settings)
    if not 1 <= settings.admin_idle_minutes <= 240:
        raise SettingsError("HUB_ADMIN_IDLE_MINUTES must be between 1 and 240")
    if not 1 <= settings.admin_session_hours <= 24:
        raise SettingsError("HUB_ADMIN_SESSION_HOURS must be between 1 and 24")
    if not 5 <= settings.admin_address_failures <= 10_000:
        raise SettingsError("HUB_ADMIN_ADDRESS_FAILURES must be between 5 and 10000")
    if settings.oidc_enabled:
        _validate_oidc(settings)
    _validate_fault_bounds(settings)
    tls = (settings.tls_certificate, settings.tls_key, settings.tls_client_ca)
    if any(tls) and not all(path is not None and path.is_file() for path in tls):
        raise SettingsError("TLS in the hub needs HUB_TLS_CERTIFICATE, HUB_TLS_KEY and HUB_TLS_CLIENT_CA, "
                            "each an existing file")
    return settings


def _validate_fault_bounds(settings: Settings) -> None:
    if not 0.1 <= settings.database_timeout <= 300:
        raise SettingsError("HUB_DATABASE_TIMEOUT must be between 0.1 and 300 seconds")
    if not 0.05 <= settings.redis_timeout <= 60:
        raise SettingsError("HUB_REDIS_TIMEOUT must be between 0.05 and 60 seconds")
    if not 1 <= settings.retry_after_seconds <= 3600:
        raise SettingsError("HUB_RETRY_AFTER_SECONDS must be between 1 and 3600")
    if not 1 <= settings.breaker_failures <= 1000:
        raise SettingsError("HUB_BREAKER_FAILURES must be between 1 and 1000")
    if not 0.1 <= settings.breaker_reset_seconds <= 3600:
        raise SettingsError("HUB_BREAKER_RESET_SECONDS must be between 0.1 and 3600")


def _validate_oidc(settings: Settings) -> None:
    issuer = settings.oidc_issuer or ""
    local = issuer.startswith(("http://127.0.0.1", "http://localhost")) and settings.development
    if not issuer.startswith("https://") and not local:
        raise SettingsError(
            "HUB_OIDC_ISSUER must be an https:// URL (http://127.0.0.1 only in development)"
        )
    if not settings.oidc_client_id:
        raise SettingsError("OpenID Connect sign-in needs HUB_OIDC_CLIENT_ID")
    if len(settings.oidc_client_secret or "") < 16:
        raise SettingsError("OpenID Connect sign-in needs HUB_OIDC_CLIENT_SECRET (at least 16 characters)")
    if "openid" not in settings.oidc_scopes.split():
        raise SettingsError("HUB_OIDC_SCOPES must include 'openid'")
    if not settings.oidc_claim.strip() or not settings.oidc_name.strip():
        raise SettingsError("HUB_OIDC_CLAIM and HUB_OIDC_NAME must not be empty")


def _validate_oauth(settings: Settings) -> None:
    if not 1 <= settings.access_token_minutes <= 60:
        raise SettingsError("HUB_ACCESS_TOKEN_MINUTES must be between 1 and 60")
    if settings.replay_cache_url != "memory" and not settings.replay_cache_url.startswith(("redis://", "rediss://")):
        raise SettingsError("HUB_REPLAY_CACHE_URL must be 'memory' or a redis:// URL")
    if settings.fair_use_url not in (None, "memory") and not settings.fair_use_url.startswith(("redis://", "rediss://")):
        raise SettingsError("HUB_FAIR_USE_URL must be 'memory' or a redis:// URL")
    health = settings.source_health_url
    if health not in (None, "memory") and not health.startswith(("redis://", "rediss://")):
        raise SettingsError("HUB_SOURCE_HEALTH_URL must be 'memory' or a redis:// URL")
    if settings.fair_use_url == "memory" and settings.replay_cache_url != "memory" and not settings.single_process:
        raise SettingsError(
            "HUB_FAIR_USE_URL=memory counts limits per process: with several replicas (a shared replay cache) "
            "leave it unset or name the shared Redis"
        )
    if not settings.development and settings.anonymous_access:
        raise SettingsError("anonymous_access is for the development demo only; production requires tokens")


def with_overrides(settings: Settings, **changes: Any) -> Settings:
    return _validate(replace(settings, **changes))
