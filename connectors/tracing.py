"""W3C trace context on every call to a department's HTTP endpoint (REST or GraphQL).

An httpx request hook puts the current span's ``traceparent`` (and ``tracestate``) on the request,
so a department that traces too joins the hub's trace. With tracing off there is no valid span
and nothing is added. Connectors know nothing of callers: the context is only trace ids.
"""

from __future__ import annotations

import httpx
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()


async def send_trace_context(request: httpx.Request) -> None:
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    request.headers.update(carrier)
