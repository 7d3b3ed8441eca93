"""The ``/graphql`` endpoint: one ASGI app from HTTP request to JSON response."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import TYPE_CHECKING, Any

import orjson
from graphql import ExecutionResult, GraphQLError, execute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from hub.context import Caller, RequestContext
from hub.errors import AccessRefused
from hub.graphql.errors import format_error
from hub.graphql.http import GRAPHQL_RESPONSE, HttpError, Params, read_params, response_media_type
from hub.loaders import Loaders

if TYPE_CHECKING:
    from hub.app import Hub

log = logging.getLogger("hub.graphql")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def request_id_of(request: Request) -> str:
    given = request.headers.get("x-request-id", "")
    return given if _REQUEST_ID.match(given) else uuid.uuid4().hex


class GraphQLEndpoint:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        started = time.perf_counter()
        response = await self.handle(request)
        self.hub.metrics.request_seconds.observe(time.perf_counter() - started)
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        request_id = request_id_of(request)
        headers = {"X-Request-Id": request_id}
        if request.method == "GET" and self._wants_graphiql(request):
            return self.hub.graphiql.page(headers)
        try:
            caller = await self.hub.authenticate(request)
        except AccessRefused as exc:
            self.hub.metrics.requests.labels("refused").inc()
            return _refused(exc, headers)
        try:
            media_type = response_media_type(request)
            params = await read_params(request)
        except HttpError as exc:
            self.hub.metrics.requests.labels("rejected").inc()
            return _json({"errors": [{"message": exc.message}]}, exc.status, {**headers, **exc.headers}, "application/json")
        status, body = await self.run(params, request, request_id, media_type, caller)
        return _json(body, status, headers, media_type)

    def _wants_graphiql(self, request: Request) -> bool:
        return (
            self.hub.settings.graphiql_enabled
            and "query" not in request.query_params
            and "text/html" in request.headers.get("accept", "")
        )

    async def run(
        self, params: Params, request: Request, request_id: str, media_type: str, caller: Caller
    ) -> tuple[int, dict[str, Any]]:
        hub = self.hub
        document = hub.documents.get(params.query)
        if document.errors:
            hub.metrics.requests.labels("invalid").inc()
            status = 400 if media_type == GRAPHQL_RESPONSE else 200
            return status, {"errors": [format_error(e, request_id, hub.titles) for e in document.errors]}
        if request.method == "GET" and not document.is_query(params.operation_name):
            return 405, {"errors": [{"message": "only queries may be sent with GET; use POST"}]}
        context = RequestContext(
            request_id=request_id,
            caller=caller,
            settings=hub.settings,
            sources=hub.sources,
            loaders=Loaders(hub.sources),
            today=hub.settings.current_date(),
        )
        result = execute(
            hub.graphql_schema, document.node,  # type: ignore[arg-type]
            context_value=context, variable_values=params.variables, operation_name=params.operation_name,
        )
        if not isinstance(result, ExecutionResult):
            result = await result
        return self._result_body(result, context, media_type)

    def _result_body(
        self, result: ExecutionResult, context: RequestContext, media_type: str
    ) -> tuple[int, dict[str, Any]]:
        errors: list[GraphQLError] = [*(result.errors or ()), *context.partial_errors]
        body: dict[str, Any] = {}
        if errors:
            body["errors"] = [format_error(e, context.request_id, self.hub.titles) for e in errors]
        if result.data is None and errors and not any(e.path for e in errors):
            # The request itself was refused (unknown operation, bad variables): no data entry.
            self.hub.metrics.requests.labels("invalid").inc()
            return (400 if media_type == GRAPHQL_RESPONSE else 200), body
        body["data"] = result.data
        self.hub.metrics.requests.labels("error" if errors else "ok").inc()
        return 200, body


def _json(body: Any, status: int, headers: dict[str, str], media_type: str) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, headers=headers, media_type=f"{media_type}; charset=utf-8"
    )


def _refused(exc: AccessRefused, headers: dict[str, str]) -> Response:
    if exc.challenge:
        headers = {**headers, "WWW-Authenticate": exc.challenge}
    body = {"error": exc.error, "error_description": exc.description}
    return Response(orjson.dumps(body), status_code=exc.status, headers=headers, media_type="application/json")
