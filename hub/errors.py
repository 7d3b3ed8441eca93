"""Errors resolvers raise in domain terms; the GraphQL edge alone translates them for clients.

- ``BadInput`` / ``InvalidIdentifier``: the caller's argument is wrong -> ``BAD_USER_INPUT``;
- ``Forbidden``: policy denies the caller a field -> ``FORBIDDEN`` naming the missing scope or purpose;
- ``connectors.base.SourceError``: a department could not answer -> ``SOURCE_UNAVAILABLE``
  naming the department and whether the provider or the hub failed;
- anything else is a hub bug -> masked ``INTERNAL_SERVER_ERROR`` with the request id.
"""

from __future__ import annotations


class BadInput(ValueError):
    """An argument that is well-typed but not acceptable."""

    def __init__(self, argument: str, reason: str) -> None:
        super().__init__(f"argument {argument!r}: {reason}")
        self.argument = argument
        self.reason = reason


class AccessRefused(Exception):
    """The request may not reach the graph at all (no or bad credentials, too little scope).

    Raised by the authenticator before any GraphQL work; the edge answers ``status`` with the
    ``WWW-Authenticate`` challenge and an RFC 6750 style body ``{"error", "error_description"}``.
    """

    def __init__(
        self, status: int, error: str, description: str, challenge: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.headers = headers or {}  # e.g. a fresh ``DPoP-Nonce`` (RFC 9449 section 9)
        self.status = status
        self.error = error
        self.description = description
        self.challenge = challenge


class Forbidden(Exception):
    """A field the caller may not see for this request: its scope or its purpose is missing.

    ``reason`` is ``"scope"`` (``missing`` names the scope) or ``"purpose"`` (``missing`` says which
    purposes the client's grants name and what the request declared).
    """

    def __init__(self, type_name: str, field: str, reason: str, missing: str) -> None:
        what = f"{type_name}.{field}" if field else f"{type_name} (every field)"
        if reason == "purpose":
            message = f"{what} is not available for this request's purpose: {missing}"
        else:
            message = f"{what} needs the scope {missing}, which this client is not granted"
        super().__init__(message)
        self.reason = reason
        self.missing = missing
