"""The load generator: a lean HTTP/1.1 keep-alive client on asyncio streams, the same for every target.

On a 2-core machine the load generator shares the CPUs with the server it measures, so it must
cost as little as possible per request: requests are pre-encoded bytes, a response is read by its
``Content-Length`` and nothing else is parsed (httpx would cost several times more per request and
blur the floor's figures). Both the hub and the floor answer with a ``Content-Length``; anything else
fails loudly. The bench measures this client's own ceiling against a trivial endpoint and reports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson


# Pre-encoded bytes, or (with a token) a function that signs a fresh DPoP proof and encodes the request.
Request = bytes | Callable[[], bytes]


def encode_request(port: int, path: str, body: object | None = None) -> bytes:
    """GET ``path``, or POST ``body`` as JSON when given."""
    head = f"{'GET' if body is None else 'POST'} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    if body is None:
        return (head + "Accept: application/json\r\n\r\n").encode()
    payload = orjson.dumps(body)
    head += "Accept: application/json\r\nContent-Type: application/json\r\n"
    return f"{head}Content-Length: {len(payload)}\r\n\r\n".encode() + payload


class BadResponse(Exception):
    pass


class Connection:
    def __init__(self, port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.port = port
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**20)
        return cls(port, reader, writer)

    async def timed(self, request: Request) -> float:
        """Seconds from sending ``request`` to having read the whole answer (a proof is signed before)."""
        encoded = request() if callable(request) else request
        started = time.perf_counter()
        await self.send(encoded)
        return time.perf_counter() - started

    async def send(self, request: Request) -> bytes:
        """The body of a 200 answer whose body is not a GraphQL error answer; else ``BadResponse``."""
        if callable(request):
            request = request()  # a request with a DPoP proof: signed anew for each send
        try:
            self.writer.write(request)
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            if isinstance(exc, asyncio.IncompleteReadError) and exc.partial:
                raise
            # uvicorn closes a keep-alive connection idle for 5 s: open a new one, as any client does.
            await self.close()
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port, limit=2**20)
            self.writer.write(request)
            head = await self.reader.readuntil(b"\r\n\r\n")
        length = None
        for line in head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if length is None:
            raise BadResponse(f"no Content-Length in {head[:200]!r}")
        body = await self.reader.readexactly(length)
        if head[9:12] != b"200" or body.startswith(b'{"errors"'):
            raise BadResponse(f"{head[:12].decode()}: {body[:300]!r}")
        return body

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


@dataclass(frozen=True)
class Throughput:
    requests: int
    seconds: float
    cpu_seconds: float = float("nan")  # the server's processes' CPU time meanwhile (``bench.measure``)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_ms_per_request(self) -> float:
        return self.cpu_seconds * 1000 / self.requests if self.requests else float("nan")

    @property
    def cores(self) -> float:
        """CPU seconds per wall second: how many cores the server kept busy."""
        return self.cpu_seconds / self.seconds


async def concurrent(port: int, requests: list[Request], clients: int, seconds: float) -> Throughput:
    """Requests completed by ``clients`` keep-alive connections sending back to back for ``seconds``."""
    connections = [await Connection.open(port) for _ in range(clients)]
    done = 0
    deadline = time.perf_counter() + seconds

    async def client(conn: Connection, offset: int) -> None:
        nonlocal done
        i = offset
        while time.perf_counter() < deadline:
            await conn.send(requests[i % len(requests)])
            done += 1
            i += clients

    started = time.perf_counter()
    try:
        await asyncio.gather(*(client(conn, n) for n, conn in enumerate(connections)))
    finally:
        elapsed = time.perf_counter() - started
        for conn in connections:
            await conn.close()
    return Throughput(done, elapsed)
