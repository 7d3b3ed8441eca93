"""One bounded body reader for every endpoint: a declared length is a plain ASCII number within the
limit, a streamed body is cut off where it passes it, and each endpoint answers in its protocol."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from starlette.requests import Request
from starlette.types import Message

from hub.bounded_body import BodyTooLarge, bounded_receive, declared_length_fits, read_bounded
from tests.edge.conftest import EdgeHub, refusal_of


@pytest.mark.parametrize(("declared", "fits"), [
    (None, True), ("10", True), (" 10 ", True), ("0", True),
    ("11", False), ("-1", False), ("1e1", False), ("", False), ("ten", False),
    ("\u00b2", False),  # a superscript two: str.isdigit() says yes, int() cannot read it
    ("\u0661\u0660", False),  # Arabic-Indic digits: a number to int(), but no HTTP length
])
def test_a_declared_length_fits_only_as_an_ascii_number_within_the_limit(declared: str | None, fits: bool) -> None:
    assert declared_length_fits(declared, 10) is fits


def request_of(chunks: Iterable[bytes], content_length: str | None = None) -> Request:
    messages = [{"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks]
    messages.append({"type": "http.request", "body": b"", "more_body": False})

    async def receive() -> Message:
        return messages.pop(0)

    headers = [] if content_length is None else [(b"content-length", content_length.encode("latin-1"))]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers}, receive)


async def test_a_body_of_exactly_the_limit_is_read_whole() -> None:
    assert await read_bounded(request_of([b"12345", b"67890"]), 10) == b"1234567890"


async def test_a_streamed_body_one_byte_past_the_limit_is_refused() -> None:
    with pytest.raises(BodyTooLarge) as refused:
        await read_bounded(request_of([b"12345", b"678901"]), 10)
    assert refused.value.limit == 10


async def test_a_declared_length_past_the_limit_is_refused_before_reading() -> None:
    async def never() -> Message:
        raise AssertionError("the body was read")

    request = Request({"type": "http", "method": "POST", "path": "/", "headers": [(b"content-length", b"11")]}, never)
    with pytest.raises(BodyTooLarge):
        await read_bounded(request, 10)


async def test_a_bounded_receive_raises_once_the_body_read_through_it_passes_the_limit() -> None:
    messages: list[Message] = [{"type": "http.request", "body": b"x" * 6, "more_body": True}] * 2

    async def receive() -> Message:
        return messages.pop(0)

    bounded = bounded_receive(receive, 10)
    await bounded()
    with pytest.raises(BodyTooLarge):
        await bounded()


async def test_graphql_answers_a_length_it_cannot_read_as_a_body_too_large(edge_hub: EdgeHub) -> None:
    async with edge_hub(max_body_bytes=2000) as hub:
        response = await hub.http.post(
            "/graphql", content=b'{"query": "{ __typename }"}',
            headers={"content-type": "application/json", "content-length": "\u00b2".encode("latin-1")},
        )
        assert refusal_of(response, 413)["extensions"]["code"] == "BODY_TOO_LARGE"
