"""A lean connection to Redis for the fair-use counters: their scripts on every request, at one round trip.

The counters run on every request, so what a call costs in this process matters as much as Redis's
own work: a general client spends several times the round trip itself on connection pooling,
command objects and its parser (``bench/README.md``, "Fair-use checks"). This connection does only
what the counters need:

- one TCP (or TLS) connection per replica, opened on first use; concurrent requests share it,
  pipelined: each writes its command at once and Redis answers in order, so a reply goes to the
  oldest waiting request (no pool, no lock on the request path);
- the scripts are loaded when the connection opens (``SCRIPT LOAD``) and called by their SHA1
  (``EVALSHA``); a server that has lost them (restarted, ``SCRIPT FLUSH``) gets the text once more;
- a reply that does not come within the timeout, or a lost connection, fails every request then
  waiting on it (their order is no longer known) and closes it; the next call opens a new one.

The URL is read as the rest of the hub reads Redis URLs (``redis://[[user]:password@]host[:port][/db]``,
``rediss://`` for TLS, ``?ssl_cert_reqs=none`` and ``ssl_ca_certs=PATH`` as redis-py takes them).
Replies are RESP2: simple strings, errors, integers, bulk strings and (nested) arrays.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio.connection import parse_url

Reply = Any  # bytes, int, None, ReplyError or a list of them


class WireError(ConnectionError):
    """Redis could not be reached, did not answer in time, or answered with an error."""


class ReplyError(str):
    """An error reply (``-ERR ...``), kept as a value so one failed command does not break the pipeline."""


@dataclass(frozen=True)
class Script:
    text: bytes
    sha: bytes = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.text).hexdigest().encode())  # Redis names scripts by SHA1


def pack(*parts: bytes | str | int | float) -> bytes:
    """One command in RESP (an array of bulk strings)."""
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        data = part if isinstance(part, bytes) else (part.encode() if isinstance(part, str) else repr(part).encode())
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


INCOMPLETE = object()
MAX_REPLY = 1 << 24  # bytes of a bulk string, elements of an array: far past any reply the counters get
MAX_DEPTH = 8  # arrays within arrays (the counters' replies are flat)


def parse(buffer: bytes | bytearray, at: int, depth: int = 0) -> tuple[Reply, int]:
    """The reply starting at ``at`` and where the next one starts; ``INCOMPLETE`` if not all arrived.
    Lengths past ``MAX_REPLY``, arrays nested past ``MAX_DEPTH`` and a bulk string without its CRLF
    raise ``WireError`` (a broken or hostile server, never waited for)."""
    end = buffer.find(b"\r\n", at)
    if end < 0:
        if len(buffer) - at > MAX_REPLY:
            raise WireError("a reply line past the size limit")
        return INCOMPLETE, at
    kind, line = buffer[at], bytes(buffer[at + 1:end])
    if kind == 0x2B:  # +
        return line, end + 2
    if kind == 0x2D:  # -
        return ReplyError(line.decode(errors="replace")), end + 2
    if kind == 0x3A:  # :
        return int(line), end + 2
    if kind == 0x24:  # $
        size = int(line)
        if size < 0:
            return None, end + 2
        if size > MAX_REPLY:
            raise WireError(f"a bulk string of {size} bytes")
        if len(buffer) < end + 4 + size:
            return INCOMPLETE, at
        if buffer[end + 2 + size:end + 4 + size] != b"\r\n":
            raise WireError("a bulk string not ended by CRLF where its length says")
        return bytes(buffer[end + 2:end + 2 + size]), end + 4 + size
    if kind == 0x2A:  # *
        size, items, position = int(line), [], end + 2
        if size < 0:
            return None, position
        if size > MAX_REPLY or depth >= MAX_DEPTH:
            raise WireError(f"an array of {size} elements at depth {depth}")
        for _ in range(size):
            item, position = parse(buffer, position, depth + 1)
            if item is INCOMPLETE:
                return INCOMPLETE, at
            items.append(item)
        return items, position
    raise WireError(f"not a Redis reply: {bytes(buffer[at:at + 20])!r}")


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiting: deque[asyncio.Future[Reply]] = deque()
        self.buffer = bytearray()
        self.lost: Exception | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        at = 0
        try:
            while self.waiting:
                reply, after = parse(self.buffer, at)
                if reply is INCOMPLETE:
                    break
                at = after
                waiter = self.waiting.popleft()
                if not waiter.done():  # a caller that gave up still had its reply come, in order
                    waiter.set_result(reply)
        except (ValueError, WireError) as exc:
            self.fail(WireError(f"unreadable reply from Redis: {exc}"))
            return
        del self.buffer[:at]
        if len(self.buffer) > 2 * MAX_REPLY:
            self.fail(WireError(f"unreadable reply from Redis: more than {2 * MAX_REPLY} bytes"))
        elif self.buffer and not self.waiting:
            # bytes no request asked for: kept, they would be read as the next request's reply
            self.fail(WireError(f"Redis sent a reply no request asked for: {bytes(self.buffer[:20])!r}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail(WireError(f"connection to Redis lost: {exc}" if exc else "connection to Redis closed"))

    def fail(self, error: Exception) -> None:
        if self.lost is None:
            self.lost = error
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_exception(self.lost)
        if self.transport is not None:
            self.transport.abort()

    def send(self, data: bytes, count: int) -> list[asyncio.Future[Reply]]:
        if self.lost is not None or self.transport is None or self.transport.is_closing():
            raise self.lost or WireError("connection to Redis closed")
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in range(count)]
        self.waiting.extend(futures)
        self.transport.write(data)
        return futures


class Wire:
    """The counters' connection to one Redis (see the module's docstring)."""

    def __init__(self, url: str, scripts: Iterable[Script], *, timeout: float = 1.0) -> None:
        options = parse_url(url)
        self.host = str(options.get("host") or "localhost")
        self.port = int(options.get("port") or 6379)
        self._db = int(options.get("db") or 0)
        self._username, self._password = options.get("username"), options.get("password")
        self._ssl = _ssl_context(options) if url.startswith("rediss://") else None
        self._scripts = tuple(scripts)
        self._timeout = timeout
        self._protocol: _Protocol | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opening: asyncio.Task[_Protocol] | None = None

    async def evalsha(self, script: Script, keys: Sequence[str], args: Sequence[bytes | str | int | float]) -> Reply:
        """The script's reply; an error reply raises ``WireError`` (after one reload for ``NOSCRIPT``)."""
        reply = (await self._exchange(pack(b"EVALSHA", script.sha, len(keys), *keys, *args), 1))[0]
        if isinstance(reply, ReplyError) and reply.startswith("NOSCRIPT"):
            reply = (await self._exchange(pack(b"EVAL", script.text, len(keys), *keys, *args), 1))[0]
        if isinstance(reply, ReplyError):
            raise WireError(f"Redis refused the script: {reply}")
        return reply

    async def commands(self, *commands: Sequence[bytes | str | int | float]) -> list[Reply]:
        """Several commands in one write, their replies in order; any error reply raises ``WireError``."""
        replies = await self._exchange(b"".join(pack(*command) for command in commands), len(commands))
        for reply in replies:
            if isinstance(reply, ReplyError):
                raise WireError(f"Redis refused a command: {reply}")
        return replies

    async def aclose(self) -> None:
        if self._protocol is not None:
            self._protocol.fail(WireError("connection to Redis closed by the hub"))
            self._protocol = None

    async def _exchange(self, data: bytes, count: int) -> list[Reply]:
        protocol = self._protocol
        loop = asyncio.get_running_loop()
        if protocol is None or protocol.lost is not None or self._loop is not loop:
            protocol = await self._open(loop)
        futures = protocol.send(data, count)
        timer = loop.call_later(self._timeout, _expire, protocol, futures[-1], self._timeout)
        try:
            return await _replies(futures)
        finally:
            timer.cancel()

    async def _open(self, loop: asyncio.AbstractEventLoop) -> _Protocol:
        """One opening at a time: requests arriving meanwhile wait for the same connection."""
        if self._opening is None or self._opening.done() or self._loop is not loop:
            if self._protocol is not None and self._loop is loop:
                self._protocol.fail(WireError("connection to Redis replaced"))
            self._protocol, self._loop = None, loop
            self._opening = loop.create_task(self._connect(loop))
        opening = self._opening
        try:
            protocol = await asyncio.shield(opening)
        except WireError:
            raise
        except Exception as exc:  # whatever stopped it (a timeout, a TLS failure): Redis is unreachable
            raise WireError(f"cannot reach Redis at {self.host}:{self.port}: {exc!r}") from exc
        finally:
            if opening.done() and self._opening is opening:
                self._opening = None
        return protocol

    async def _connect(self, loop: asyncio.AbstractEventLoop) -> _Protocol:
        async with asyncio.timeout(self._timeout):
            try:
                _, protocol = await loop.create_connection(_Protocol, self.host, self.port, ssl=self._ssl)
            except (OSError, ssl.SSLError) as exc:
                raise WireError(f"cannot reach Redis at {self.host}:{self.port}: {exc}") from exc
            try:
                await self._hello(protocol)
            except BaseException:
                protocol.fail(WireError("connection to Redis not set up"))
                raise
        self._protocol = protocol
        return protocol


    async def _hello(self, protocol: _Protocol) -> None:
        """Log in and choose the database (as the URL says), and load the scripts, in one write."""
        hello: list[Sequence[bytes | str | int | float]] = []
        if self._password is not None:
            hello.append((b"AUTH", self._username, self._password) if self._username else (b"AUTH", self._password))
        if self._db:
            hello.append((b"SELECT", self._db))
        hello.extend((b"SCRIPT", b"LOAD", script.text) for script in self._scripts)
        if not hello:
            return
        for reply in await _replies(protocol.send(b"".join(pack(*c) for c in hello), len(hello))):
            if isinstance(reply, ReplyError):
                raise WireError(f"Redis refused the connection's setup: {reply}")


async def _replies(futures: list[asyncio.Future[Reply]]) -> list[Reply]:
    """Each future's reply in order; on a failure the others' outcomes are taken too (one failure tells
    for all of them), and those still waiting are given up (their replies, when they come, are skipped)."""
    try:
        return [await future for future in futures]
    except BaseException:
        for future in futures:
            if not future.done():
                future.cancel()
            elif not future.cancelled():
                future.exception()
        raise


def _expire(protocol: _Protocol, last: asyncio.Future[Reply], timeout: float) -> None:
    if not last.done():
        protocol.fail(WireError(f"Redis did not answer within {timeout:g} s"))


def _ssl_context(options: Mapping[str, Any]) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=options.get("ssl_ca_certs"))
    if str(options.get("ssl_cert_reqs", "required")).lower() in ("none", "optional"):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE if str(options["ssl_cert_reqs"]).lower() == "none" else ssl.CERT_OPTIONAL
    return context
