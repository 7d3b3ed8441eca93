"""What one hub process holds: ``Hub``, built by ``hub.app.build_hub``.

``hub.app.compose_app`` hands each part of the app (the GraphQL and subgraph endpoints, the console,
readiness, the operator endpoint) exactly the parts it uses when it builds it, and the lifespan
closes the ``Hub``; nothing else in the hub takes it whole (``tests/test_composition.py``).
Tests and tools that drive the app read its parts from the app's state (``hub``).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from graphql import GraphQLSchema

from hub.audit import AuditStore
from hub.audit.recorder import DisclosureRecorder
from hub.auth import Authenticator
from hub.data.sources import Sources
from hub.fairuse.gate import FairUse
from hub.graphql.documents import DocumentCache
from hub.graphql.graphiql import GraphiQL
from hub.graphql.views import Views
from hub.metrics import Metrics
from hub.oauth.server import AuthorizationServer
from hub.policy import Policies
from hub.settings import Settings
from hub.store.owner import Database
from hub.telemetry import Telemetry


@dataclass
class Hub:
    """Everything one hub process holds; no module-level state anywhere."""

    settings: Settings
    database: Database
    sources: Sources
    metrics: Metrics
    graphql_schema: GraphQLSchema
    documents: DocumentCache
    graphiql: GraphiQL
    titles: dict[str, str]
    authenticate: Authenticator
    oauth: AuthorizationServer
    policies: Policies
    views: Views
    audit: AuditStore
    disclosures: DisclosureRecorder
    fair_use: FairUse
    telemetry: Telemetry = field(default_factory=Telemetry)

    async def aclose(self) -> None:
        """Close every part this process opened, users before what they use: the sources and the
        shared health, the fair-use counters (the quota counts sent after answers flushed first), the
        audit store (its SQLite index batches), the OAuth server's caches, then the database they all
        read, and the telemetry last. A part that fails to close keeps none of the others open; its
        error is raised once the rest are closed."""
        async with contextlib.AsyncExitStack() as closing:  # closes from the bottom of this list up
            closing.callback(self.telemetry.shutdown)
            closing.push_async_callback(self.database.aclose)
            closing.push_async_callback(self.oauth.aclose)
            closing.push_async_callback(self.audit.aclose)
            closing.push_async_callback(self.fair_use.aclose)  # its counts sent after answers, flushed first
            if self.sources.health.shared is not None:
                closing.push_async_callback(self.sources.health.shared.aclose)
            closing.push_async_callback(self.sources.aclose)
