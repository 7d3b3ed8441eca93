"""OAuth errors, each carrying its ``error`` code (RFC 6749 5.2, RFC 6750 3.1, RFC 8707, RFC 9449).

The protocol cores raise these; only the edges (``endpoints``, ``resource``) turn them into HTTP.
"""

from __future__ import annotations

from typing import ClassVar


class OAuthError(Exception):
    error: ClassVar[str] = "invalid_request"
    status: ClassVar[int] = 400

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class InvalidRequest(OAuthError):
    error = "invalid_request"


class InvalidClient(OAuthError):
    error = "invalid_client"
    status = 401


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"


class InvalidScope(OAuthError):
    error = "invalid_scope"


class InvalidTarget(OAuthError):
    """RFC 8707 section 2: the requested resource is invalid, unknown, or malformed."""

    error = "invalid_target"


class InvalidDPoPProof(OAuthError):
    error = "invalid_dpop_proof"


class UseDPoPNonce(OAuthError):
    """RFC 9449 section 8: the server requires a nonce; ``nonce`` goes out in ``DPoP-Nonce``."""

    error = "use_dpop_nonce"

    def __init__(self, description: str, nonce: str) -> None:
        super().__init__(description)
        self.nonce = nonce


class InvalidToken(OAuthError):
    error = "invalid_token"
    status = 401


class InsufficientScope(OAuthError):
    error = "insufficient_scope"
    status = 403
