"""Request bodies held to a limit, for every endpoint that reads one (GraphQL, OAuth, the console).

A body is refused as soon as it is known to exceed the limit: by its declared ``Content-Length``
before anything is read, else while it streams in, so an oversized body is never buffered whole.
Each endpoint answers ``BodyTooLarge`` in its own protocol (GraphQL's 413 ``BODY_TOO_LARGE``, an
OAuth ``invalid_request``, the console's page).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import Message, Receive


class BodyTooLarge(Exception):
    """The body is longer than ``limit`` bytes, or says it is."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the body is larger than {limit} bytes")
        self.limit = limit


def declared_length_fits(content_length: str | None, limit: int) -> bool:
    """Whether a declared ``Content-Length`` (None: none declared) is a number of bytes within ``limit``."""
    if content_length is None:
        return True
    text = content_length.strip()
    return text.isascii() and text.isdigit() and int(text) <= limit


async def read_bounded(request: Request, limit: int) -> bytes:
    """The whole body, at most ``limit`` bytes (``BodyTooLarge`` past it)."""
    if not declared_length_fits(request.headers.get("content-length"), limit):
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def bounded_receive(receive: Receive, limit: int) -> Receive:
    """An ASGI ``receive`` that raises ``BodyTooLarge`` once the body read through it passes ``limit``."""
    read = 0

    async def bounded() -> Message:
        nonlocal read
        message = await receive()
        if message["type"] == "http.request":
            read += len(message.get("body", b""))
            if read > limit:
                raise BodyTooLarge(limit)
        return message

    return bounded
