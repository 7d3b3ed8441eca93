"""Log lines as JSON, each with the request id and the trace id it belongs to (``HUB_LOG_FORMAT=json``).

A log line written while a request is handled carries its ``request_id`` (the ``X-Request-Id`` the
hub answers with) and, when tracing is on, the ``trace_id`` and ``span_id`` of the span in force,
so a line found in the logs leads to the trace, and the trace to the audit record.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
from typing import Any

import orjson
from opentelemetry import trace

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("hub_request_id", default=None)


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            line["request_id"] = request_id
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            line["trace_id"] = format(context.trace_id, "032x")
            line["span_id"] = format(context.span_id, "016x")
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line).decode()


def use_json_lines() -> None:
    """Every handler of the root logger writes JSON lines from now on."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO)
    for handler in root.handlers:
        handler.setFormatter(JsonLines())
