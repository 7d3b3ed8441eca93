"""OpenTelemetry traces, off unless the standard ``OTEL_*`` variables turn them on.

On when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) names a collector,
unless ``OTEL_SDK_DISABLED=true`` or ``OTEL_TRACES_EXPORTER=none``; spans go there over OTLP/HTTP
(protobuf) in batches, and the SDK reads every other ``OTEL_*`` variable itself (service name,
resource attributes, headers, sampler, batch delays). Each app holds its own tracer provider, so
nothing is global and tests can run several hubs with and without it.

Spans: ``graphql.request`` (client, purpose, operation hash, HTTP status), ``graphql.prepare``
(parse, limits and validation of a document), ``department.fetch`` / ``department.select``
(department, entity, number of keys, cache hits and misses, the failing side) and ``audit.append``.
Attributes never carry a person's number or any other record value: only what the request says
about itself. Outgoing calls to REST and GraphQL departments carry W3C ``traceparent``
(``connectors.tracing``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import INVALID_SPAN, NoOpTracer, Span, Tracer

SERVICE_NAME = "service-centre-hub"


def tracing_wanted(environ: Mapping[str, str]) -> bool:
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "none":
        return False
    return bool(environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


class QuietTracer(NoOpTracer):
    """The tracer while tracing is off: every span is the one invalid span, and entering it leaves
    the context alone. (The SDK's no-op tracer makes each span current, a context attached and
    detached again: about 15 us a span, several spans a request, for a span nobody can see. It
    also made a caller's ``traceparent`` current, to be passed on to the departments; with tracing
    off no trace context leaves the hub.)"""

    # The base's return type is its decorator's private class; any context manager of a span serves.
    def start_as_current_span(  # type: ignore[override]
        self, name: str, *args: Any, **kwargs: Any
    ) -> AbstractContextManager[Span]:
        return _NO_SPAN


_NO_SPAN = nullcontext(INVALID_SPAN)  # re-entrant: one for every span


class Telemetry:
    """The hub's tracer: the SDK's with an OTLP/HTTP exporter when wanted, else a no-op one."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        environ = os.environ if environ is None else environ
        self._provider: TracerProvider | None = None
        self.tracer: Tracer = QuietTracer()
        if tracing_wanted(environ):
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            resource = Resource.create({} if environ.get("OTEL_SERVICE_NAME") else {"service.name": SERVICE_NAME})
            self._provider = TracerProvider(resource=resource)
            self._provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
            self.tracer = self._provider.get_tracer("hub")

    @property
    def enabled(self) -> bool:
        return self._provider is not None

    def flush(self, timeout_millis: int = 5000) -> bool:
        return self._provider.force_flush(timeout_millis) if self._provider is not None else True

    def shutdown(self) -> None:
        if self._provider is not None:
            self._provider.shutdown()
            self._provider = None
