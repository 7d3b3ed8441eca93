"""``/subgraphs/<department>/graphql``: one department's subgraph behind the hub's own GraphQL edge.

The endpoint is the hub's ``GraphQLEndpoint`` (authentication, limits, error translation, per-request
loaders) over the subgraph's schema instead of the whole graph, plus what a gateway needs: it is
known by its TLS client certificate (``hub.federation.gateways``), its traffic is counted by
subgraph and gateway (``hub_subgraph_requests_total``, ``hub_subgraph_request_seconds``), and when
it asks for federated tracing the response carries ``extensions.ftv1``.
"""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING

import orjson
from opentelemetry import trace
from graphql import GraphQLSchema
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.context import Caller
from hub.federation.certificates import networks
from hub.federation.gateways import GatewayAccess
from hub.federation.tracing import FTV1_HEADER, FieldTimings, current, instrument
from hub.graphql.documents import DocumentCache
from hub.graphql.endpoint import GraphQLEndpoint
from hub.graphql.views import Views
from hub.strawberry_bridge import graphql_schema
from schema.subgraphs import DEPARTMENTS, build_subgraph

if TYPE_CHECKING:
    from hub.oauth.server import AuthorizationServer
    from hub.policy import Policies


@functools.cache
def subgraph_schema(department: str) -> GraphQLSchema:
    """Built once per process: a schema holds no state, and building all six costs a quarter second."""
    return instrument(graphql_schema(build_subgraph(department)))


class SubgraphEndpoint(GraphQLEndpoint):
    """The graph's endpoint (``graph``: its settings, sources, fair use, audit, metrics, telemetry) over
    one department's subgraph, with views of its own under the same ``policies`` and gateways known
    to the authorization server (``oauth``) by their certificates."""

    def __init__(self, graph: GraphQLEndpoint, department: str, *, policies: Policies,
                 oauth: AuthorizationServer) -> None:
        schema = subgraph_schema(department)
        settings = graph.settings
        self.gateways = GatewayAccess(oauth, networks(settings.trusted_proxies), graph.authenticator)
        super().__init__(
            settings=settings,
            authenticate=self.gateways,
            # The same grants and policies, and the same limits, hold at every GraphQL endpoint.
            views=Views(schema, policies),
            documents=DocumentCache(
                schema, settings.limits, max_page_size=settings.max_page_size,
                hide_suggestions=settings.environment == "production",
                introspection=settings.introspection_enabled,
            ),
            sources=graph.sources,
            fair_use=graph.fair_use,
            disclosures=graph.disclosures,
            metrics=graph.metrics,
            telemetry=graph.telemetry,
            graphiql=graph.graphiql,
            titles=graph.titles,
        )
        self.department = department

    async def authenticate(self, request: Request) -> Caller:
        caller = await self.gateways(request)
        request.state.gateway = caller.gateway
        # The request's span (``graphql.request``) says which subgraph and which gateway, as the metrics do.
        trace.get_current_span().set_attributes({"hub.subgraph": self.department, "hub.gateway": caller.gateway or ""})
        return caller

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        response = await self._traced(request)
        gateway = getattr(request.state, "gateway", None) or ""
        metrics = self.metrics
        metrics.subgraph_requests.labels(self.department, gateway, str(response.status_code)).inc()
        metrics.subgraph_seconds.labels(self.department, gateway).observe(time.perf_counter() - started)
        return response

    async def _traced(self, request: Request) -> Response:
        if request.headers.get(FTV1_HEADER, "").lower() != "ftv1":
            return await super().handle(request)
        timings = FieldTimings()
        token = current.set(timings)
        try:
            response = await super().handle(request)
        finally:
            current.reset(token)
        return with_trace(response, timings.trace().base64())


def with_trace(response: Response, ftv1: str) -> Response:
    """The response with ``extensions.ftv1`` added to its GraphQL result (other responses as they are)."""
    body = orjson.loads(response.body)
    if not isinstance(body, dict) or not ("data" in body or "errors" in body):
        return response
    body["extensions"] = {**body.get("extensions", {}), "ftv1": ftv1}
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return Response(orjson.dumps(body), status_code=response.status_code, headers=headers)


def subgraph_routes(graph: GraphQLEndpoint, policies: Policies, oauth: AuthorizationServer) -> list[Route]:
    return [
        Route(f"/subgraphs/{department}/graphql", SubgraphEndpoint(graph, department, policies=policies, oauth=oauth),
              methods=["GET", "POST"])
        for department in DEPARTMENTS
    ]
