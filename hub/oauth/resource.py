"""The resource side: ``/graphql`` accepts only DPoP-bound RFC 9068 access tokens from this hub.

An ``Authenticator`` (``hub.auth``): the token comes in ``Authorization: DPoP <token>`` (never
the query string or the body, never as ``Bearer``: RFC 9449 section 7.1), with exactly one DPoP
proof for this request whose key is the token's ``cnf.jkt`` and whose ``ath`` is the token's
hash. The token must be live (signed, in date, not revoked, its client active) and carry at
least one scope of the catalogue that its client is still allowed (checked per request). The
calling system states who and why in headers:

- ``X-Hub-End-User``: the end user the system acts for (1-64 of ``A-Z a-z 0-9 . _ @ : -``);
- ``X-Hub-Purpose``: the declared purpose (1-64 of ``a-z 0-9 . _ -``);
- ``X-Hub-Case``: the case number, where there is one (1-64 of ``A-Z a-z 0-9 . _ -``).
"""

from __future__ import annotations

import re

from starlette.requests import Request

from hub.context import Caller
from hub.errors import AccessRefused
from hub.oauth.errors import (
    InsufficientScope,
    InvalidDPoPProof,
    InvalidRequest,
    InvalidToken,
    OAuthError,
    UseDPoPNonce,
)
from hub.oauth.server import AuthorizationServer

CALLER_HEADERS = {
    "x-hub-end-user": re.compile(r"^[A-Za-z0-9._@:-]{1,64}$"),
    "x-hub-purpose": re.compile(r"^[a-z0-9._-]{1,64}$"),
    "x-hub-case": re.compile(r"^[A-Za-z0-9._-]{1,64}$"),
}
TOKEN_PARAMETERS = ("access_token", "token")


class ResourceServer:
    def __init__(self, server: AuthorizationServer) -> None:
        self._server = server

    async def __call__(self, request: Request) -> Caller:
        try:
            return await self._caller(request)
        except OAuthError as exc:
            raise _refusal(exc) from None

    async def _caller(self, request: Request) -> Caller:
        token = _token_of(request)
        parts = self._server.parts
        claims, client = await self._server.live(token)
        htu = f"{self._server.issuer}{request.url.path}"
        jkt = await parts.dpop.verify(request.headers.getlist("dpop"), request.method, htu, token)
        if jkt != claims["cnf"]["jkt"]:
            raise InvalidDPoPProof("the DPoP proof's key is not the key the token is bound to (cnf.jkt)")
        # What the token carries, narrowed to what the client's grants hold now (a grant may have
        # been revoked, expired or lost a purpose since the token was issued) and to the catalogue.
        scopes = frozenset(claims["scope"].split()) & client.scopes & self._server.catalogue
        if not scopes:
            raise InsufficientScope("the token carries no scope this client is currently granted")
        return Caller(
            client_id=client.client_id,
            department=client.department,
            scopes=scopes,
            end_user=_header(request, "x-hub-end-user"),
            purpose=_header(request, "x-hub-purpose"),
            case_number=_header(request, "x-hub-case"),
            grants={scope: client.grants[scope] for scope in scopes},
            jurisdiction=client.jurisdiction,
            limits=client.limits,
            quotas={scope: quota for scope, quota in client.quotas.items() if scope in scopes},
            registry_seen=client.registry_seen,
        )


def _token_of(request: Request) -> str:
    if any(name in request.query_params for name in TOKEN_PARAMETERS):
        raise InvalidRequest(
            "access tokens are accepted in the Authorization header only, never the query string"
        )
    values = request.headers.getlist("authorization")
    if not values:
        raise _Missing()
    if len(values) > 1:
        raise InvalidRequest("one Authorization header, please")
    scheme, _, token = values[0].partition(" ")
    if scheme.lower() == "bearer":
        raise InvalidToken(
            "this hub's tokens are DPoP-bound: send Authorization: DPoP <token> with a DPoP proof"
        )
    if scheme.lower() != "dpop" or not token.strip():
        raise InvalidToken("use the DPoP authentication scheme")
    return token.strip()


def _header(request: Request, name: str) -> str | None:
    values = request.headers.getlist(name)
    if not values:
        return None
    if len(values) > 1 or not CALLER_HEADERS[name].match(values[0]):
        raise InvalidRequest(f"header {name} is malformed (see the README for its characters and length)")
    return values[0]


class _Missing(OAuthError):
    """No credentials at all: RFC 6750 section 3.1, the challenge names no error."""

    error = "invalid_token"
    status = 401

    def __init__(self) -> None:
        super().__init__("an access token is required (Authorization: DPoP <token> and a DPoP proof)")


def _refusal(exc: OAuthError) -> AccessRefused:
    status = 401 if isinstance(exc, (InvalidDPoPProof, UseDPoPNonce)) else exc.status
    if isinstance(exc, _Missing):
        challenge = 'DPoP algs="ES256"'
    else:
        description = _quotable(exc.description)
        challenge = f'DPoP error="{exc.error}", error_description="{description}", algs="ES256"'
    headers = {"DPoP-Nonce": exc.nonce} if isinstance(exc, UseDPoPNonce) else {}
    return AccessRefused(status, exc.error, exc.description, challenge, headers)


def _quotable(text: str, limit: int = 100) -> str:
    """A description safe inside a quoted challenge parameter: printable ASCII without quote or
    backslash (RFC 6750 3: error_description is %x20-21 / %x23-5B / %x5D-7E), at most ``limit``."""
    kept = "".join(c for c in text if " " <= c <= "~" and c not in '"\\')
    return kept if len(kept) <= limit else kept[: limit - 3] + "..."
