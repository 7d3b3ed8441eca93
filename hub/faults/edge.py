"""503 with ``Retry-After`` for a dependency's outage, on every path, with the connection kept.

``OutageAnswer`` sits inside Starlette's error middleware: an exception that reached it would be a
plain-text 500 and a closed connection (uvicorn closes a connection whose response was already
started by the error page), which a load balancer counts against the replica. Here an outage
(``hub.faults.outage``) becomes an ordinary response instead: GraphQL paths get a GraphQL error
body with ``extensions.code``; the others (``/oauth``, ``/admin``) RFC 6749's
``temporarily_unavailable`` with the same ``code``. The log gets one line per outage and code,
then a count every ``LOG_EVERY`` seconds while it lasts, never a traceback per request.
"""

from __future__ import annotations

import logging
import time

import orjson
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.faults.outage import Outage, outage_of
from hub.metrics import Metrics

log = logging.getLogger("hub.faults")
GRAPHQL_PATHS = ("/graphql", "/subgraphs/")
LOG_EVERY = 10.0


class OutageAnswer:
    def __init__(self, app: ASGIApp, *, retry_after: int, metrics: Metrics) -> None:
        self.app = app
        self.retry_after = retry_after
        self.metrics = metrics
        self._logged: dict[str, tuple[float, int]] = {}  # code -> (last line at, requests since)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            outage = outage_of(exc)
            if outage is None or started:
                raise
            self._note(outage, exc, scope["path"])
            headers = {"Retry-After": str(self.retry_after), "Cache-Control": "no-store"}
            answer = Response(_body(outage, scope["path"]), 503, headers, media_type="application/json")
            await answer(scope, receive, send)

    def _note(self, outage: Outage, exc: Exception, path: str) -> None:
        self.metrics.unavailable.labels(outage.code).inc()
        now = time.monotonic()
        last, since = self._logged.get(outage.code, (0.0, 0))
        if now - last < LOG_EVERY:
            self._logged[outage.code] = (last, since + 1)
            return
        self._logged[outage.code] = (now, 0)
        more = f" ({since} more since the last line)" if since else ""
        log.warning("%s: answering 503 %s (%s on %s: %s)%s", outage.dependency, outage.code,
                    type(exc).__name__, path, str(exc).splitlines()[0][:200] if str(exc) else "", more)


def _body(outage: Outage, path: str) -> bytes:
    if path == "/graphql" or path.startswith(GRAPHQL_PATHS):
        return orjson.dumps({"errors": [{"message": outage.message, "extensions": {"code": outage.code}}]})
    return orjson.dumps({"error": "temporarily_unavailable", "error_description": outage.message, "code": outage.code})
