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
    """Every request is the anonymous caller: the development demo, before credentials exist."""

    async def __call__(self, request: Request) -> Caller:
        return ANONYMOUS
