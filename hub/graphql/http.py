"""GraphQL over HTTP: reading a request into parameters, choosing the response media type.

Follows the GraphQL-over-HTTP specification: POST ``application/json`` or GET with query
parameters; responses in ``application/graphql-response+json`` when the client accepts it (then
request errors are 4xx), else ``application/json`` (legacy clients: 200 with ``errors``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
MAX_BODY_BYTES = 1_000_000


class HttpError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass(frozen=True, slots=True)
class Params:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None


def response_media_type(request: Request) -> str:
    accept = request.headers.get("accept", "")
    if not accept.strip():
        return JSON
    kinds = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    if GRAPHQL_RESPONSE in kinds:
        return GRAPHQL_RESPONSE
    if JSON in kinds or "*/*" in kinds or "application/*" in kinds:
        return JSON
    raise HttpError(406, f"responses are {GRAPHQL_RESPONSE} or {JSON}")


async def read_params(request: Request) -> Params:
    if request.method == "GET":
        return _from_query_string(request)
    if request.method != "POST":
        raise HttpError(405, "use GET or POST", {"Allow": "GET, POST"})
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != JSON:
        raise HttpError(415, f"POST a body of type {JSON}")
    body = await _read_body(request)
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise HttpError(400, "the body is not valid JSON") from None
    if isinstance(payload, list):
        raise HttpError(400, "batched requests are not supported: send one operation per request")
    if not isinstance(payload, dict):
        raise HttpError(400, "the body must be a JSON object")
    return _params(payload)


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise HttpError(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise HttpError(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


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
    query = payload.get("query")
    if not isinstance(query, str) or not query.strip():
        raise HttpError(400, "query must be a non-empty string")
    variables = payload.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise HttpError(400, "variables must be an object")
    name = payload.get("operationName")
    if name is not None and not isinstance(name, str):
        raise HttpError(400, "operationName must be a string")
    extensions = payload.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise HttpError(400, "extensions must be an object")
    return Params(query, variables, name, extensions)
