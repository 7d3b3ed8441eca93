"""How errors reach clients: stable ``extensions.code``, never SQL, paths or stack traces.

Refusals raised by resolvers (``hub.errors``: bad input, conflict, forbidden, not found, a source
that could not answer) are translated here and only here, each with its kind's ``code``; anything else is
logged in full under the request id and shown to the client as an internal error with that id.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

from connectors.base import SourceError
from hub.errors import BadInput, Conflict, FieldForbidden, Forbidden, NotFound

log = logging.getLogger("hub.graphql")


def format_error(error: GraphQLError, request_id: str, titles: dict[str, str]) -> dict[str, Any]:
    original = error.original_error
    formatted: dict[str, Any] = {"message": error.message}
    if error.locations:
        formatted["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        formatted["path"] = error.path
    if original is None or not error.path:
        # Parse, validation and variable-coercion errors: about the request, before any resolver.
        code = (error.extensions or {}).get("code") or _request_error_code(error)
        formatted["extensions"] = {**(error.extensions or {}), "code": code}
    elif isinstance(original, SourceError):
        formatted.update(_source_error(original, error, request_id, titles))
    elif isinstance(original, FieldForbidden):
        formatted["message"] = str(original)
        key = "purpose" if original.reason == "purpose" else "scope"
        formatted["extensions"] = {"code": original.code, "reason": original.reason, key: original.missing}
    elif isinstance(original, (BadInput, Conflict, Forbidden, NotFound)):
        formatted["message"] = str(original)
        formatted["extensions"] = {"code": original.code}
    else:
        log.error(
            "request %s: unexpected error at %s", request_id, error.path,
            exc_info=(type(original), original, original.__traceback__),
        )
        formatted["message"] = f"Internal server error (request {request_id})"
        formatted["extensions"] = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    return formatted


def _source_error(
    original: SourceError, error: GraphQLError, request_id: str, titles: dict[str, str]
) -> dict[str, Any]:
    if original.side == "hub" and original.__cause__ is not None:
        # A hub bug behind a source call: its traceback belongs in the log under this request's id.
        cause = original.__cause__
        log.error(
            "request %s: the hub failed calling %s at %s", request_id, original.department, error.path,
            exc_info=(type(cause), cause, cause.__traceback__),
        )
    title = titles.get(original.department, original.department)
    who = "the department's system" if original.side == "provider" else "the hub"
    return {
        "message": f"{title} could not answer: {who} failed ({original.reason})",
        "extensions": {
            "code": original.code,
            "department": original.department,
            "failedSide": original.side,
            "requestId": request_id,
        },
    }


def _request_error_code(error: GraphQLError) -> str:
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if error.message.startswith("Variable "):
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"
