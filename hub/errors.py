"""The hub's refusals: one tree, each kind with the code and HTTP status it is answered with.

Code below the edge raises these in domain terms; each edge maps the tree once: the GraphQL
formatter (``hub.graphql.errors``), the console's pages and JSON API (``hub.admin.access.refused``),
the command line (``hub.cli``); an outage (``Unavailable``) of the hub's own dependencies is answered
by ``hub.faults.edge``. The message is the reason shown to the person or client; anything outside
the tree is a hub bug, logged under the request id and answered as an internal error.
docs/architecture.md ("The error tree") tells where each kind is raised.

    HubError                              code                  status  admin API ``error``
    ├── BadInput                          BAD_USER_INPUT        400     bad_request
    │   ├── BadArgument                     (a GraphQL argument: ``argument``, ``reason``)
    │   ├── hub.identifiers.InvalidIdentifier
    │   ├── hub.grants.GrantError
    │   ├── hub.store.RegistryError
    │   └── hub.accounts.AccountError
    ├── Conflict                          CONFLICT              409     conflict
    │                                       (the state forbids it: a request not pending, a grant not
    │                                       active, a name, key or link taken)
    ├── Forbidden                         FORBIDDEN             403     forbidden
    │   │                                   (as is: the registry's and accounts' services, operator only)
    │   ├── FieldForbidden                  (a graph field: ``reason`` scope | purpose, ``missing``)
    │   ├── hub.grants.Forbidden            (the actor may not change this grant)
    │   └── hub.admin.access.Forbidden      (the signed-in visitor may not do this)
    ├── NotFound                          NOT_FOUND             404     not_found
    │                                       (the department, client, key, gateway, account, grant or
    │                                       request an operation is made to, named well, not there)
    ├── AccessRefused                     per instance          401/403 (RFC 6750 ``error``)
    │                                       (no, bad or too weak credentials, before any GraphQL work)
    └── Unavailable                       UNAVAILABLE           503     unavailable
        ├── connectors.base.SourceError   SOURCE_UNAVAILABLE    (a field error naming the department)
        │   └── UnsupportedQuery
        └── hub.faults.DependencyUnavailable     the outage's code: REGISTRY_UNAVAILABLE,
            └── hub.fairuse.counters.CountersUnavailable     REPLAY_CACHE_UNAVAILABLE, QUOTA_UNAVAILABLE

What is missing decides between two kinds: the thing an operation is made *to* (the client
blocked, the account disabled, the key removed) not being there is ``NotFound``; a thing the input
of an operation on something else names (the department of a new client: "register it first", the
client a grant is asked for) not being there is ``BadInput``, like any other field that is not
acceptable. An id that could name nothing (a malformed one) is ``BadInput`` and is never looked up.

A state conflict is not bad input: the request was well made, the hub's state refuses it (another
change came first), so it has a kind and status of its own (409) for clients to tell the two apart.
The tree is a leaf module (it imports nothing), so every layer, ``connectors`` included, may raise
its kinds.
"""

from __future__ import annotations

__all__ = [
    "AccessRefused",
    "BadArgument",
    "BadInput",
    "Conflict",
    "FieldForbidden",
    "Forbidden",
    "HubError",
    "NotFound",
    "Unavailable",
]


class HubError(Exception):
    """A refusal the hub answers with; ``str(error)`` is the reason given to the caller.

    ``code`` is the stable ``extensions.code`` (GraphQL) and the CLI's kind, ``status`` the HTTP
    status, ``error`` the admin API's ``{"error": ...}`` word.
    """

    code = "INTERNAL_SERVER_ERROR"
    status = 500
    error = "internal_error"


class BadInput(HubError, ValueError):
    """Input that is well-typed but not acceptable; the message says what is wrong with it."""

    code = "BAD_USER_INPUT"
    status = 400
    error = "bad_request"


class BadArgument(BadInput):
    """A GraphQL argument that is not acceptable."""

    def __init__(self, argument: str, reason: str) -> None:
        super().__init__(f"argument {argument!r}: {reason}")
        self.argument = argument
        self.reason = reason


class Conflict(HubError):
    """Well-formed, but the current state forbids it (a request no longer pending, a name taken)."""

    code = "CONFLICT"
    status = 409
    error = "conflict"


class Forbidden(HubError):
    """The caller or actor may not do or see this; the message says who may."""

    code = "FORBIDDEN"
    status = 403
    error = "forbidden"


class FieldForbidden(Forbidden):
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


class NotFound(HubError):
    """The thing an operation is made to, named by a well-formed id, is not there (a malformed id, or
    a missing thing the input only refers to, is ``BadInput``)."""

    code = "NOT_FOUND"
    status = 404
    error = "not_found"


class AccessRefused(HubError):
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
        self.code = error.upper()
        self.description = description
        self.challenge = challenge


class Unavailable(HubError):
    """Something the hub depends on could not answer; nothing was done, the caller may retry."""

    code = "UNAVAILABLE"
    status = 503
    error = "unavailable"
