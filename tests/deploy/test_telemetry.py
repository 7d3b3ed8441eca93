"""OpenTelemetry, off by default and on with the standard ``OTEL_*`` variables: spans exported over
OTLP/HTTP to a receiver this test runs (each export decoded from its protobuf), W3C ``traceparent``
arriving at the REST and GraphQL departments, and JSON log lines naming the request and the trace."""

from __future__ import annotations

import hashlib
import io
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.demo import ecology_service, security_service
from hub.demo.services import RunningService, serve_in_thread
from hub.telemetry import Telemetry
from hub.telemetry.logs import JsonLines
from tests.deploy.conftest import free_port
from tests.graph.conftest import HubClient, hub_settings, open_hub

QUERY = """
query($u: String!) {
  enterprise(uscc: $u) {
    name
    dischargePermits { number }
    legalRepresentative { idNumber name identityVerification { verified } }
  }
}
"""
WHO = {"X-Hub-Purpose": "licensing", "X-Request-Id": "telemetry-test-0001"}


@dataclass
class ExportedSpan:
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any]
    status: int
    service: str


@dataclass
class OtlpReceiver:
    """An OTLP/HTTP collector endpoint (``POST /v1/traces``, protobuf) keeping what it is sent."""

    spans: list[ExportedSpan] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def traces(self, request: Request) -> Response:
        assert request.headers["content-type"] == "application/x-protobuf"
        export = ExportTraceServiceRequest.FromString(await request.body())
        with self.lock:
            for resource in export.resource_spans:
                service = next(a.value.string_value for a in resource.resource.attributes if a.key == "service.name")
                for scope in resource.scope_spans:
                    self.spans.extend(_span(span, service) for span in scope.spans)
        return Response(ExportTraceServiceResponse().SerializeToString(), media_type="application/x-protobuf")

    def named(self, name: str) -> list[ExportedSpan]:
        with self.lock:
            return [span for span in self.spans if span.name == name]


def _span(span: Any, service: str) -> ExportedSpan:
    attributes = {a.key: getattr(a.value, a.value.WhichOneof("value")) for a in span.attributes}
    return ExportedSpan(span.name, span.trace_id.hex(), span.span_id.hex(), span.parent_span_id.hex(),
                        attributes, span.status.code, service)


class HeaderLog:
    """An ASGI wrapper around a department's real service that notes each request's trace headers."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[dict[str, str]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] != "/healthz":
            headers = {k.decode(): v.decode() for k, v in scope["headers"]}
            self.seen.append({k: v for k, v in headers.items() if k in ("traceparent", "tracestate")})
        await self.app(scope, receive, send)


@dataclass
class Traced:
    hub: HubClient
    receiver: OtlpReceiver
    ecology: HeaderLog
    security: HeaderLog


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[OtlpReceiver, RunningService]]:
    collector = OtlpReceiver()
    service = serve_in_thread(Starlette(routes=[Route("/v1/traces", collector.traces, methods=["POST"])]))
    yield collector, service
    service.stop()


@pytest.fixture
async def traced(demo_data_dir: Path, receiver: tuple[OtlpReceiver, RunningService],
                 monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Traced]:
    collector, service = receiver
    collector.spans.clear()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", service.url)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "hub-under-test")
    ecology = HeaderLog(ecology_service.create_app(demo_data_dir / "ecology.sqlite"))
    security = HeaderLog(security_service.create_app(demo_data_dir / "security.sqlite"))
    running = [serve_in_thread(ecology), serve_in_thread(security)]
    try:
        async with open_hub(hub_settings(demo_data_dir, running[0].url, running[1].url)) as hub:
            yield Traced(hub, collector, ecology, security)
    finally:
        for department in running:
            department.stop()


def holder(demo_db: Any) -> tuple[str, str]:
    """An enterprise with a discharge permit (Ecology, REST), and its legal representative's ID number."""
    row = demo_db("market", "SELECT e.uscc, e.legal_rep_id FROM enterprises e ORDER BY e.uscc")
    permits = {r["holder_uscc"] for r in demo_db("ecology", "SELECT holder_uscc FROM discharge_permits")}
    found = next(r for r in row if r["uscc"] in permits)
    return found["uscc"], found["legal_rep_id"]


async def test_a_request_exports_its_spans_over_otlp_http_in_one_trace(traced: Traced, demo_db: Any) -> None:
    uscc, person = holder(demo_db)
    answer = await traced.hub.query(QUERY, {"u": uscc}, **WHO)
    assert "errors" not in answer and answer["data"]["enterprise"]["legalRepresentative"]["idNumber"] == person
    assert traced.hub.hub.telemetry.flush()
    [request] = traced.receiver.named("graphql.request")
    assert request.service == "hub-under-test" and request.parent_span_id == ""
    assert request.attributes["hub.client"] == "anonymous"  # the development demo's caller (see below)
    assert request.attributes["hub.operation.sha256"] == hashlib.sha256(QUERY.encode()).hexdigest()
    assert request.attributes["hub.request_id"] == "telemetry-test-0001"
    assert request.attributes["http.response.status_code"] == 200
    spans = traced.receiver.spans
    assert {span.trace_id for span in spans} == {request.trace_id}
    assert {"graphql.prepare", "department.fetch", "audit.append"} <= {span.name for span in spans}
    fetched = {(s.attributes["hub.department"], s.attributes["hub.entity"]) for s in traced.receiver.named("department.fetch")}
    assert {("market", "enterprise"), ("ecology", "discharge_permit"), ("security", "identity_record")} <= fetched
    for span in traced.receiver.named("department.fetch"):
        assert span.attributes["hub.keys"] >= 1 and span.attributes["hub.cache"] in ("hit", "miss", "partial")
    everything = orjson.dumps([span.attributes for span in spans]).decode()
    assert person not in everything  # never a person's number; nor any value the departments returned
    assert answer["data"]["enterprise"]["name"] not in everything


async def test_the_departments_receive_the_requests_trace_context(traced: Traced, demo_db: Any) -> None:
    uscc, _ = holder(demo_db)
    await traced.hub.query(QUERY, {"u": uscc}, **WHO)
    assert traced.hub.hub.telemetry.flush()
    fetches = {span.span_id: span for span in traced.receiver.named("department.fetch")}
    for department, log in (("ecology", traced.ecology), ("security", traced.security)):
        assert log.seen, f"{department} was not called"
        version, trace_id, parent, flags = log.seen[-1]["traceparent"].split("-")
        assert version == "00" and int(flags, 16) & 1  # sampled
        assert trace_id == traced.receiver.named("graphql.request")[0].trace_id
        assert fetches[parent].attributes["hub.department"] == department


async def test_a_second_request_shows_the_cache_hit_on_its_department_span(traced: Traced, demo_db: Any) -> None:
    uscc, _ = holder(demo_db)
    await traced.hub.query(QUERY, {"u": uscc}, **WHO)
    await traced.hub.query(QUERY, {"u": uscc}, **WHO)
    assert traced.hub.hub.telemetry.flush()
    market = [s for s in traced.receiver.named("department.fetch") if s.attributes["hub.department"] == "market"
              and s.attributes["hub.entity"] == "enterprise"]
    assert [s.attributes["hub.cache"] for s in market][-1] == "hit"
    assert market[-1].attributes["hub.cache.hits"] == 1 and market[-1].attributes["hub.cache.misses"] == 0


async def test_a_failing_department_marks_its_span_and_the_log_line_names_request_and_trace(
    demo_data_dir: Path, receiver: tuple[OtlpReceiver, RunningService], monkeypatch: pytest.MonkeyPatch,
    demo_db: Any,
) -> None:
    collector, service = receiver
    collector.spans.clear()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", service.url)
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonLines())
    logging.getLogger("hub").addHandler(handler)
    closed = f"http://127.0.0.1:{free_port()}"  # nobody listens: Ecology is down
    try:
        async with open_hub(hub_settings(demo_data_dir, closed, closed)) as hub:
            uscc, _ = holder(demo_db)
            answer = await hub.query(QUERY, {"u": uscc}, **WHO)
            assert answer["errors"][0]["extensions"]["failedSide"] == "provider"
            assert hub.hub.telemetry.flush()
    finally:
        logging.getLogger("hub").removeHandler(handler)
    [ecology] = [s for s in collector.named("department.fetch") if s.attributes["hub.department"] == "ecology"]
    assert ecology.attributes["hub.failed_side"] == "provider" and ecology.status == 2  # STATUS_CODE_ERROR
    logged = [orjson.loads(line) for line in lines.getvalue().splitlines()]
    failed = [line for line in logged if line["message"].startswith("source call failed")]
    assert failed and failed[0]["request_id"] == "telemetry-test-0001"
    assert failed[0]["trace_id"] == ecology.trace_id and failed[0]["span_id"] == ecology.span_id
    assert failed[0]["level"] == "WARNING" and failed[0]["logger"] == "hub.sources"


@pytest.mark.parametrize("environ", [
    {},
    {"OTEL_SERVICE_NAME": "hub"},  # a name alone sends nothing anywhere
    {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"},
    {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_TRACES_EXPORTER": "none"},
])
def test_tracing_is_off_unless_an_otlp_endpoint_is_named(environ: dict[str, str]) -> None:
    telemetry = Telemetry(environ)
    assert not telemetry.enabled
    with telemetry.tracer.start_as_current_span("graphql.request") as span:
        assert not span.is_recording()


# A caller's own trace context: with tracing off, the hub does not pass it on either.
CALLERS_TRACE = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}


@pytest.mark.parametrize("sent", [{}, CALLERS_TRACE], ids=["no trace context", "the caller's trace context"])
async def test_with_tracing_off_no_trace_context_leaves_the_hub(demo_data_dir: Path, demo_db: Any,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                sent: dict[str, str]) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    ecology = HeaderLog(ecology_service.create_app(demo_data_dir / "ecology.sqlite"))
    running = serve_in_thread(ecology)
    try:
        async with open_hub(hub_settings(demo_data_dir, running.url, running.url)) as hub:
            assert not hub.hub.telemetry.enabled
            uscc, _ = holder(demo_db)
            answer = await hub.query(QUERY, {"u": uscc}, **WHO, **sent)
            assert answer["data"]["enterprise"]["dischargePermits"] is not None
    finally:
        running.stop()
    assert ecology.seen and all("traceparent" not in headers for headers in ecology.seen)


def test_a_request_span_names_the_client_and_purpose_but_never_the_end_user() -> None:
    from hub.context import Caller
    from hub.graphql.endpoint import _who

    caller = Caller(client_id="market-3f9c", department="market", end_user="clerk-0042", purpose="licensing",
                    case_number="TS-2026-000123")
    assert _who(caller) == {"hub.client": "market-3f9c", "hub.purpose": "licensing"}
