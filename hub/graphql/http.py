"""GraphQL over HTTP: reading a request into parameters, choosing the response media type.

Follows the GraphQL-over-HTTP specification: POST ``application/json`` or GET with query
parameters; responses in ``application/graphql-response+json`` when the client accepts it (then
request errors are 4xx), else ``application/json`` (legacy clients: 200 with ``errors``).

A POST body may be a JSON array of requests (a batch) of up to ``limits.max_batch`` entries.
A GET must not be a request a browser would send cross-site without a CORS preflight (CSRF, as
the GraphQL-over-HTTP spec warns and Apollo's ``csrfPrevention`` enforces): it needs a
preflight-forcing header (``GraphQL-Require-Preflight``, ``X-Requested-With``, ...) or a
non-simple ``Content-Type``. POST bodies are ``application/json`` only, which is never simple.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request

from hub.bounded_body import BodyTooLarge, read_bounded
from hub.graphql.limits import Limits

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
PREFLIGHT_HEADERS = (
    "graphql-require-preflight", "apollo-require-preflight", "x-requested-with", "x-apollo-operation-name",
)
SIMPLE_CONTENT_TYPES = ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data")


class HttpError(Exception):
    def __init__(
        self, status: int, message: str, headers: dict[str, str] | None = None, code: str = "BAD_REQUEST"
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.code = code


@dataclass(frozen=True, slots=True)
class Params:
    query: str | None  # None only with extensions.persistedQuery: the allow-list holds the document
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None


def response_media_type(request: Request) -> str:
    accept = request.headers.get("accept", "")
    if not accept.strip():
        return JSON
    kinds = [kind for kind, q in map(_media_range, accept.split(",")) if q > 0]
    if GRAPHQL_RESPONSE in kinds:
        return GRAPHQL_RESPONSE
    if JSON in kinds or "*/*" in kinds or "application/*" in kinds:
        return JSON
    raise HttpError(406, f"responses are {GRAPHQL_RESPONSE} or {JSON}", code="NOT_ACCEPTABLE")


def _media_range(part: str) -> tuple[str, float]:
    """``type/subtype`` and its quality (``q=0`` means "not acceptable", RFC 9110 section 12.4.2)."""
    kind, *params = (p.strip().lower() for p in part.split(";"))
    for param in params:
        name, _, value = param.partition("=")
        if name.strip() == "q":
            try:
                return kind, float(value)
            except ValueError:
                return kind, 0.0
    return kind, 1.0


async def read_params(request: Request, limits: Limits) -> tuple[list[Params], bool]:
    """The operations the request asks for, and whether it was a batch (a JSON array)."""
    if request.method == "GET":
        _require_preflight(request)
        return [_from_query_string(request)], False
    if request.method != "POST":
        raise HttpError(405, "use GET or POST", {"Allow": "GET, POST"}, code="METHOD_NOT_ALLOWED")
    media, *params = (p.strip().lower() for p in request.headers.get("content-type", "").split(";"))
    charset = next((p.partition("=")[2].strip('" ') for p in params if p.startswith("charset")), "utf-8")
    if media != JSON or charset not in ("utf-8", "utf8"):
        raise HttpError(415, f"POST a body of type {JSON} in UTF-8", code="UNSUPPORTED_MEDIA_TYPE")
    try:
        body = await read_bounded(request, limits.max_body_bytes)
    except BodyTooLarge as exc:
        raise HttpError(
            413, f"the body is larger than the limit (max_body_bytes = {exc.limit})", code="BODY_TOO_LARGE"
        ) from None
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise HttpError(400, "the body is not valid JSON") from None
    if isinstance(payload, list):
        return _batch(payload, limits.max_batch), True
    if not isinstance(payload, dict):
        raise HttpError(400, "the body must be a JSON object (or an array of them: a batch)")
    return [_params(payload)], False


def _batch(payload: list[Any], max_batch: int) -> list[Params]:
    if max_batch == 1:
        raise HttpError(400, "batched requests are refused here (max_batch = 1): send one operation per request",
                        code="BATCH_LIMIT_EXCEEDED")
    if not 1 <= len(payload) <= max_batch:
        raise HttpError(400, f"a batch holds 1 to {max_batch} operations (max_batch = {max_batch}); "
                        f"this one holds {len(payload)}", code="BATCH_LIMIT_EXCEEDED")
    if not all(isinstance(entry, dict) for entry in payload):
        raise HttpError(400, "every entry of a batch must be a JSON object")
    return [_params(entry) for entry in payload]


def _require_preflight(request: Request) -> None:
    headers = request.headers
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and content_type not in SIMPLE_CONTENT_TYPES:
        return
    if any(headers.get(name, "").strip() for name in PREFLIGHT_HEADERS):
        return
    raise HttpError(
        400,
        "a GET request must carry a GraphQL-Require-Preflight (or X-Requested-With) header, or be sent "
        "as POST application/json: browsers send plain GETs cross-site with cookies (CSRF prevention)",
        code="PREFLIGHT_REQUIRED",
    )


def _from_query_string(request: Request) -> Params:
    args = request.query_params
    payload: dict[str, Any] = {"query": args.get("query"), "operationName": args.get("operationName")}
    for name in ("variables", "extensions"):
        raw = args.get(name)
        if raw is not None:
            try:
                payload[name] = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise HttpError(400, f"{name} is not valid JSON") from None
    return _params(payload)


def _params(payload: dict[str, Any]) -> Params:
    variables = payload.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise HttpError(400, "variables must be an object")
    name = payload.get("operationName")
    if name is not None and not isinstance(name, str):
        raise HttpError(400, "operationName must be a string")
    extensions = payload.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise HttpError(400, "extensions must be an object")
    query = payload.get("query")
    persisted = isinstance(extensions, dict) and isinstance(extensions.get("persistedQuery"), dict)
    if not (isinstance(query, str) and query.strip()) and not (query is None and persisted):
        raise HttpError(400, "query must be a non-empty string")
    return Params(query, variables, name, extensions)
