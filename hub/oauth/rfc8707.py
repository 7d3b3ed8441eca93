"""RFC 8707 resource indicators: the one resource the hub issues tokens for.

Section 2: "the authorization server ... SHOULD use the invalid_target error code" when the
requested resource is invalid, unknown, or not one it issues tokens for. A request naming no
resource gets the hub's own; a request naming several is refused (one audience per token).
"""

from __future__ import annotations

from collections.abc import Sequence

from hub.oauth.errors import InvalidTarget


def target(requested: Sequence[str], resource: str) -> str:
    if len(requested) > 1:
        raise InvalidTarget("request one resource per token")
    if requested and requested[0] != resource:
        raise InvalidTarget(f"tokens are issued for the resource {resource!r} only")
    return resource
