"""The hub composed: ``create_app(settings)`` builds every part and mounts the small ASGI apps."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from connectors import build_connector, load_bindings
from connectors.base import Connector
from hub.admin.app import SECTIONS, admin_app
from hub.admin.console import Console
from hub.audit import AuditKeys, AuditStore
from hub.audit.recorder import DisclosureRecorder
from hub.auth import AnonymousAccess
from hub.composition import Hub
from hub.data.cache import Bypassable, build_cache
from hub.fairuse.build import build_fair_use
from hub.faults.breaker import Breaker
from hub.faults.edge import OutageAnswer
from hub.faults.outage import REGISTRY, DependencyUnavailable
from hub.federation.certificates import KeepPeer
from hub.federation.endpoint import subgraph_routes
from hub.graphql.documents import DocumentCache
from hub.graphql.endpoint import GraphQLEndpoint
from hub.graphql.graphiql import ASSET_PATH, GraphiQL
from hub.graphql.views import Views
from hub.metrics import Metrics
from hub.oauth.endpoints import oauth_routes
from hub.oauth.resource import ResourceServer
from hub.oauth.server import AuthorizationServer, check_production
from hub.ops import OpsEndpoint
from hub.policy import full_scope_catalogue, load_policies
from hub.policy.masks_config import refuse_published_keys
from hub.readiness import Readiness, healthz
from hub.settings import Settings
from hub.data.sources import Sources
from hub.source_health import watch
from hub.source_health_shared import SharedHealth, keep_sharing
from hub.store.owner import Database
from hub.strawberry_bridge import graphql_schema
from hub.telemetry import Telemetry
from schema import build_schema

log = logging.getLogger("hub")


def build_connectors(settings: Settings) -> tuple[dict[str, Connector], dict[str, str]]:
    bindings = load_bindings(settings.bindings_dir)
    connectors: dict[str, Connector] = {}
    for name, binding in bindings.items():
        override = settings.sources.get(name)
        url = (override.url if override and override.url else binding.source.url)
        connectors[name] = build_connector(
            binding,
            url=url.replace("{demo_data}", str(settings.demo_data_dir)),
            timeout=override.timeout if override else None,
            cache_ttl=override.cache_ttl if override else None,
        )
    return connectors, {name: b.title for name, b in bindings.items()}


def build_hub(settings: Settings) -> Hub:
    check_production(settings)  # fail closed: no production hub without keys, issuer and registry
    connectors, titles = build_connectors(settings)
    metrics = Metrics()
    cache = Bypassable(build_cache(
        settings.cache_url, prefix=settings.cache_prefix, max_entries=settings.cache_max_entries,
        timeout=settings.redis_timeout,
    ), metrics)  # an optimisation: its store failing costs speed, not answers
    schema = build_schema()
    # Fail closed (docs/architecture.md, rule 2): an unclassified field or a malformed policy stops start-up here.
    policies = load_policies(settings.policies_dir, schema)
    if not settings.development:
        refuse_published_keys(settings.policies_dir)  # a mask key in a policy file is every developer's
    database = Database(settings)  # the registry, grants and audit: one owner, opened in the lifespan
    oauth = AuthorizationServer(settings, full_scope_catalogue(settings.bindings_dir, settings.policies_dir), database)
    # Tokens are required unless the development demo opts out (settings refuse that in production).
    anonymous = settings.development and settings.anonymous_access
    audit = AuditStore(
        database.engine, AuditKeys.from_sealer(database.sealer), seal_every=settings.audit_seal_every,
        stall_timeout=settings.audit_stall_timeout, write_timeout=settings.audit_write_timeout,
    )
    disclosures = DisclosureRecorder(audit)
    telemetry = Telemetry()  # off unless OTEL_EXPORTER_OTLP_ENDPOINT names a collector
    sources = Sources(connectors, cache, metrics, tracer=telemetry.tracer, breakers={
        name: Breaker(settings.breaker_failures, settings.breaker_reset_seconds) for name in connectors
    })
    if settings.source_health_store_url is not None:  # every replica's health page shows the same
        sources.health.share(SharedHealth(
            settings.source_health_store_url, settings.source_health_key_prefix, settings.redis_timeout,
        ))
    return Hub(
        settings=settings,
        database=database,
        sources=sources,
        metrics=metrics,
        graphql_schema=graphql_schema(schema),
        documents=DocumentCache(
            graphql_schema(schema), settings.limits, max_page_size=settings.max_page_size,
            hide_suggestions=settings.environment == "production",
            introspection=settings.introspection_enabled,
        ),
        graphiql=GraphiQL(settings.graphiql_assets_dir),
        titles=titles,
        authenticate=AnonymousAccess(ResourceServer(oauth)) if anonymous else ResourceServer(oauth),
        oauth=oauth,
        policies=policies,
        views=Views(graphql_schema(schema), policies),
        audit=audit,
        disclosures=disclosures,
        fair_use=build_fair_use(settings, policies, metrics, disclosures),
        telemetry=telemetry,
    )


def create_app(settings: Settings) -> Starlette:
    return compose_app(build_hub(settings))


def compose_app(hub: Hub) -> Starlette:
    """The app over ``hub``'s parts, each handed to what uses it at construction (no handler finds
    its parts through the app's state); the lifespan opens the database and closes ``hub``."""
    settings = hub.settings

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await open_at_start(hub)
        # Everything built at start-up lives as long as the process: keep it out of the GC's scans.
        gc.collect()
        gc.freeze()
        # A light check of the sources the graph has not called lately (hub/source_health.py).
        checking = asyncio.create_task(watch(hub.sources.health, hub.sources.connectors))
        sharing = asyncio.create_task(keep_sharing(hub.sources.health)) if hub.sources.health.shared else None
        yield
        checking.cancel()
        if sharing is not None:
            sharing.cancel()
        await readiness.aclose()
        await hub.aclose()

    readiness = Readiness(settings, hub.database)
    readiness.add_detail("breakers", hub.sources.breaker_states)
    graph = GraphQLEndpoint(
        settings=settings, authenticate=hub.authenticate, views=hub.views, documents=hub.documents,
        sources=hub.sources, fair_use=hub.fair_use, disclosures=hub.disclosures, metrics=hub.metrics,
        telemetry=hub.telemetry, graphiql=hub.graphiql, titles=hub.titles,
    )
    routes = [
        Route("/graphql", graph, methods=["GET", "POST"]),
        Route("/metrics", hub.metrics.endpoint),
        Route("/healthz", healthz),
        Route("/readyz", readiness.endpoint),
        Route("/ops/cache/invalidate", OpsEndpoint(settings.ops_token, hub.sources), methods=["POST"]),
        *subgraph_routes(graph, hub.policies, hub.oauth),
        *oauth_routes(hub.oauth),
        Mount("/admin", app=admin_app(Console(
            SECTIONS, settings=settings, database=hub.database, oauth=hub.oauth, policies=hub.policies,
            views=hub.views, graphql_schema=hub.graphql_schema, health=hub.sources.health, fair_use=hub.fair_use,
            audit=hub.audit, metrics=hub.metrics,
        ))),
    ]
    if settings.graphiql_enabled:
        routes.append(Mount(ASSET_PATH, app=hub.graphiql.static_app()))
    outages = Middleware(OutageAnswer, retry_after=settings.retry_after_seconds, metrics=hub.metrics)
    opened = Middleware(OpensDatabase, database=hub.database)
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[*forwarded_headers(settings), outages, opened])
    # For tests and tools that drive the app and read its parts (metrics, the audit store); no
    # request handler reads it.
    app.state.hub = hub
    app.state.readiness = readiness
    return app


async def open_at_start(hub: Hub) -> None:
    """Open the database (development: migrating it) before the first request; a database not
    reachable yet is not fatal: ``/readyz`` says so until it is, and the next request opens it."""
    try:
        await hub.database.open()
    except Exception as exc:  # noqa: BLE001 - reported by /readyz, retried by the next request
        log.warning("the registry is not open yet (%s); /readyz reports it until it is", exc)


class OpensDatabase:
    """Opens the database at the first request that needs it, if the lifespan did not (an app driven
    without its lifespan, or a database that was not reachable or not migrated at start: each request
    tries again, and until it opens each is answered 503 REGISTRY_UNAVAILABLE; ``/readyz`` says why).
    Liveness, readiness and metrics answer without it."""

    WITHOUT = frozenset({"/healthz", "/readyz", "/metrics"})

    def __init__(self, app: ASGIApp, *, database: Database) -> None:
        self.app = app
        self.database = database

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.database.opened and scope["type"] == "http" and scope["path"] not in self.WITHOUT:
            try:
                await self.database.open()
            except Exception as exc:  # unreachable or not migrated: an outage to the caller, the cause chained
                raise DependencyUnavailable(REGISTRY) from exc
        await self.app(scope, receive, send)


def forwarded_headers(settings: Settings) -> list[Middleware]:
    """X-Forwarded-For / -Proto believed only from the configured proxies (none by default), so a
    client cannot name its own address to the console's per-address sign-in throttle."""
    if not settings.trusted_proxies:
        return []
    # The connection's own peer is kept first: a gateway's Client-Cert is believed from a trusted proxy only.
    return [Middleware(KeepPeer), Middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))]
