"""The ``/graphql`` endpoint: one ASGI app from HTTP request to JSON response.

Per operation: the persisted-operation allow-list, the cached document and its verdict (parse,
limits, validation), the cost for this request's variables, then execution under
``limits.execution_timeout``. Request-level refusals carry no ``data`` entry.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from typing import TYPE_CHECKING, Any

import orjson
from graphql import ExecutionResult, GraphQLError, execute
from opentelemetry import trace
from opentelemetry.propagate import extract
from opentelemetry.trace import SpanKind
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from hub.audit.records import operation_hash
from hub.context import Caller, RequestContext
from hub.errors import AccessRefused
from hub.fairuse.gate import Refusal
from hub.graphql.compiled import CompiledExecutor
from hub.graphql.documents import Document, DocumentCache
from hub.graphql.errors import format_error
from hub.graphql.http import GRAPHQL_RESPONSE, HttpError, Params, read_params, response_media_type
from hub.graphql.limits import refusal
from hub.graphql.persisted import PersistedOperations
from hub.telemetry.logs import REQUEST_ID

if TYPE_CHECKING:
    from hub.audit.recorder import DisclosureRecorder
    from hub.auth import Authenticator
    from hub.data.sources import Sources
    from hub.fairuse.gate import FairUse
    from hub.graphql.graphiql import GraphiQL
    from hub.graphql.views import Views
    from hub.metrics import Metrics
    from hub.settings import Settings
    from hub.telemetry import Telemetry

log = logging.getLogger("hub.graphql")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
Outcome = tuple[int, dict[str, Any], dict[str, str]]  # status, body, extra headers


def request_id_of(request: Request) -> str:
    given = request.headers.get("x-request-id", "")
    return given if _REQUEST_ID.match(given) else uuid.uuid4().hex


class GraphQLEndpoint:
    """Handed at construction exactly the parts it uses (``hub.app`` composes them); the subgraph
    endpoint is one over its own schema (``views``, ``documents``)."""

    def __init__(
        self,
        *,
        settings: Settings,
        authenticate: Authenticator,
        views: Views,
        documents: DocumentCache,
        sources: Sources,
        fair_use: FairUse,
        disclosures: DisclosureRecorder,
        metrics: Metrics,
        telemetry: Telemetry,
        graphiql: GraphiQL,
        titles: dict[str, str],
    ) -> None:
        self.settings = settings
        self.authenticator = authenticate
        self.views = views
        self.documents = documents
        self.sources = sources
        self.fair_use = fair_use
        self.disclosures = disclosures
        self.metrics = metrics
        self.telemetry = telemetry
        self.graphiql = graphiql
        self.titles = titles
        self.limits = settings.limits
        self.persisted = PersistedOperations.load(
            self.limits.persisted_operations_dir, required=self.limits.require_persisted_operations
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        started = time.perf_counter()
        # A caller's trace context is read only to be continued: with tracing off, nothing is.
        parent = extract(request.headers) if self.telemetry.enabled else None
        with self.telemetry.tracer.start_as_current_span(
            "graphql.request", context=parent, kind=SpanKind.SERVER,
            attributes={"http.request.method": request.method, "url.path": request.url.path},
        ) as span:
            response = await self.handle(request)
            span.set_attribute("http.response.status_code", response.status_code)
        self.metrics.request_seconds.observe(time.perf_counter() - started)
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        request_id = request_id_of(request)
        REQUEST_ID.set(request_id)  # JSON log lines name it (hub.telemetry.logs)
        trace.get_current_span().set_attribute("hub.request_id", request_id)
        headers = {"X-Request-Id": request_id}
        if request.method == "GET" and self._wants_graphiql(request):
            return self.graphiql.page(headers)
        try:
            caller = await self.authenticate(request)
        except AccessRefused as exc:
            self.metrics.requests.labels("refused").inc()
            return _refused(exc, headers)
        trace.get_current_span().set_attributes(_who(caller))
        try:
            media_type = response_media_type(request)
            operations, batched = await read_params(request, self.limits)
        except HttpError as exc:
            self.metrics.requests.labels("rejected").inc()
            body = {"errors": [{"message": exc.message, "extensions": {"code": exc.code}}]}
            return _json(body, exc.status, {**headers, **exc.headers}, "application/json")
        if batched:
            outcomes = await asyncio.gather(*(
                self.run(params, request.method, f"{request_id}.{i}", media_type, caller)
                for i, params in enumerate(operations)
            ))
            return _json([body for _, body, _ in outcomes], 200, headers, media_type)
        status, body, extra = await self.run(operations[0], request.method, request_id, media_type, caller)
        return _json(body, status, {**headers, **extra}, media_type)

    async def authenticate(self, request: Request) -> Caller:
        """The caller (``hub.auth``); a subgraph endpoint also knows gateways by their certificates."""
        return await self.authenticator(request)

    def _wants_graphiql(self, request: Request) -> bool:
        return (
            self.settings.graphiql_enabled
            and "query" not in request.query_params
            and "text/html" in request.headers.get("accept", "")
        )

    async def run(self, params: Params, method: str, request_id: str, media_type: str, caller: Caller) -> Outcome:
        """One operation: its document and verdict in the caller's view, execution, then its audit record."""
        started = time.perf_counter()
        view = self.views.for_caller(caller)
        if view.reaches_nothing:
            error = refusal("FORBIDDEN", "this client's grants reach nothing in this graph: ask the data owners for a "
                                         "grant (the catalogue lists the scopes)")
            return self._request_errors([error], request_id, media_type)
        try:
            text = self.persisted.document_for(params, caller.client_id)
            span = trace.get_current_span()
            if span.is_recording():
                span.set_attribute("hub.operation.sha256", operation_hash(text))
            with self.telemetry.tracer.start_as_current_span("graphql.prepare"):
                document = self.documents.get(text, view.schema)
        except GraphQLError as error:
            return self._request_errors([error], request_id, media_type)
        if method == "GET" and document.node is not None and not document.is_query(params.operation_name):
            body = {"errors": [{"message": "only queries may be sent with GET; use POST",
                                "extensions": {"code": "METHOD_NOT_ALLOWED"}}]}
            return 405, body, {"Allow": "POST"}
        if document.errors:
            return self._request_errors(list(document.errors), request_id, media_type)
        cost, objects, too_costly = self.documents.judged(document, params.operation_name, params.variables)
        if too_costly is not None:
            return self._request_errors([too_costly], request_id, media_type)
        held = await self.fair_use.admit(caller, cost, objects)  # a quota'd caller's room reserved with it
        if isinstance(held, Refusal):  # rate limit or cost budget: nothing runs, nothing is disclosed
            return held.outcome(request_id)
        context = RequestContext(
            request_id=request_id,
            caller=caller,
            settings=self.settings,
            sources=self.sources,
            today=self.settings.current_date(),
            view=view,
        )
        result = await self._execute(document, params, context)
        if result is None:
            self.fair_use.release(caller, held)
            return self._timed_out(request_id, media_type)
        over_quota = await self.fair_use.disclose(caller, context.disclosed, held)
        if over_quota is not None:  # refused whole: nothing leaves, so nothing is recorded as disclosed
            return over_quota.outcome(request_id)
        if result.data is not None or context.disclosed:
            try:
                operation = document.operation(params.operation_name)
                name = operation.name.value if operation is not None and operation.name else None
                with self.telemetry.tracer.start_as_current_span("audit.append"):
                    await self.disclosures.record(request_id, caller, text, name, context.disclosed)
            except Exception:  # noqa: BLE001  rule 6: whatever stops the record stops the data
                return self._unrecorded(request_id, media_type)
        operation = document.operation(params.operation_name)
        kind = "query" if operation is None else operation.operation.value
        self.metrics.operation_seconds.labels(kind).observe(time.perf_counter() - started)
        return self._result_body(result, context, media_type)

    async def _execute(self, document: Document, params: Params, context: RequestContext) -> ExecutionResult | None:
        """The result, or None when the operation ran out of time (its pending work is cancelled)."""
        assert document.node is not None  # only a document that parsed and validated runs
        deadline = asyncio.timeout(self.limits.execution_timeout)
        try:
            async with deadline:
                result = execute(
                    context.view.schema, document.node,
                    context_value=context, variable_values=params.variables,
                    operation_name=params.operation_name, hide_suggestions=self.documents.hide_suggestions,
                    **self._compiled(document),
                )
                if not isinstance(result, ExecutionResult):
                    result = await result
                return result
        except TimeoutError:
            if not deadline.expired():
                raise
            return None
        finally:
            context.records.cancel()

    def _compiled(self, document: Document) -> dict[str, Any]:
        """The compiled path's executor and the document's plans, unless the setting turns it off."""
        if not self.settings.compiled_execution or document.plans is None:
            return {}
        return {"executor_class": CompiledExecutor, "plans": document.plans}

    def _timed_out(self, request_id: str, media_type: str) -> Outcome:
        self.metrics.requests.labels("timeout").inc()
        timeout = self.limits.execution_timeout
        log.warning("request %s: the operation ran past execution_timeout = %s s and was cancelled",
                    request_id, timeout)
        error = refusal("TIMEOUT", f"the operation did not finish within the limit (execution_timeout = {timeout} s)",
                        requestId=request_id)
        body = {"errors": [format_error(error, request_id, self.titles)]}
        return (504 if media_type == GRAPHQL_RESPONSE else 200), body, {}

    def _unrecorded(self, request_id: str, media_type: str) -> Outcome:
        """docs/architecture.md, rule 6: the disclosure could not be recorded, so nothing is disclosed."""
        log.exception("request %s: the disclosure audit record could not be written; no data returned", request_id)
        self.metrics.requests.labels("unrecorded").inc()
        message = f"the disclosure could not be recorded, so no data is returned (request {request_id})"
        body = {"errors": [{"message": message, "extensions": {"code": "AUDIT_UNAVAILABLE", "requestId": request_id}}]}
        return 503, body, {"Retry-After": str(self.settings.retry_after_seconds)}

    def _request_errors(self, errors: list[GraphQLError], request_id: str, media_type: str) -> Outcome:
        self.metrics.requests.labels("invalid").inc()
        body = {"errors": [format_error(e, request_id, self.titles) for e in errors]}
        return (400 if media_type == GRAPHQL_RESPONSE else 200), body, {}

    def _result_body(self, result: ExecutionResult, context: RequestContext, media_type: str) -> Outcome:
        errors: list[GraphQLError] = [*(result.errors or ()), *context.partial_errors]
        if result.data is None and errors and not any(e.path for e in errors):
            # The request itself was refused (unknown operation, bad variables): no data entry.
            return self._request_errors(errors, context.request_id, media_type)
        body: dict[str, Any] = {}
        if errors:
            body["errors"] = [format_error(e, context.request_id, self.titles) for e in errors]
        body["data"] = result.data
        self.metrics.requests.labels("error" if errors else "ok").inc()
        return 200, body, {}


def _who(caller: Caller) -> dict[str, str]:
    """What a request span says about its caller: never the end user or anything read."""
    return {"hub.client": caller.client_id or "anonymous", "hub.purpose": caller.purpose or ""}


def _json(body: Any, status: int, headers: dict[str, str], media_type: str) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, headers=headers, media_type=f"{media_type}; charset=utf-8"
    )


def _refused(exc: AccessRefused, headers: dict[str, str]) -> Response:
    headers = {**headers, **exc.headers}
    if exc.challenge:
        headers = {**headers, "WWW-Authenticate": exc.challenge}
    body = {"error": exc.error, "error_description": exc.description}
    return Response(orjson.dumps(body), status_code=exc.status, headers=headers, media_type="application/json")
