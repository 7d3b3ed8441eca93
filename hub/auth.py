"""Who is calling: the seam between the GraphQL edge and the OAuth resource server.

The edge asks its ``Authenticator`` for the ``Caller`` of every request before any GraphQL work.
``AnonymousAccess`` serves the embedded demo in development only; production settings must name
a real authenticator (the OAuth resource server), and the app refuses to start otherwise.
"""

from __future__ import annotations

from typing import Protocol

from starlette.requests import Request

from hub.context import ANONYMOUS, Caller


class Authenticator(Protocol):
    async def __call__(self, request: Request) -> Caller:
        """The caller, or raise ``hub.errors.AccessRefused``."""
        ...


class AnonymousAccess:
    """The development demo: a request without credentials is the anonymous caller.

    A request that presents credentials gets them checked by ``tokens`` all the same: a bad token is
    refused, never quietly downgraded to anonymous, so a department system tried against the demo
    sees the errors it would see in production.
    """

    def __init__(self, tokens: Authenticator) -> None:
        self._tokens = tokens

    async def __call__(self, request: Request) -> Caller:
        headers = request.headers
        if "authorization" in headers or "dpop" in headers:
            return await self._tokens(request)
        return ANONYMOUS
