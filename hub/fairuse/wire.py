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
  waiting on it (their order is no longer known) and closes it; the next call opens a new one. One
  timer per connection watches the oldest request waiting (replies come in order, so when it is
  answered in time every request behind it was sent later), not one timer per call;
- a call that sends one command (every script the counters run) awaits one future and nothing else.

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


class WireTimeout(WireError):
    """A reply did not come in time: the command may have run (its effect is unknown, unlike a refused
    connection's)."""


class ReplyError(str):
    """An error reply (``-ERR ...``), kept as a value so one failed command does not break the pipeline."""


@dataclass(frozen=True)
class Script:
    text: bytes
    sha: bytes = field(init=False)
    _called: bytes = field(init=False, repr=False)  # EVALSHA and the SHA, as every call of it starts

    def __post_init__(self) -> None:
        sha = hashlib.sha1(self.text).hexdigest().encode()  # Redis names scripts by SHA1
        object.__setattr__(self, "sha", sha)
        object.__setattr__(self, "_called", b"$7\r\nEVALSHA\r\n$%d\r\n%s\r\n" % (len(sha), sha))

    def call(self, keys: Sequence[str], args: Sequence[bytes | str | int | float]) -> bytes:
        """``EVALSHA sha len(keys) *keys *args`` in RESP: ``pack``'s bytes, its first two parts made once."""
        return self.call_encoded(len(keys), len(keys) + len(args), bulk((*keys, *args)))

    def call_encoded(self, keys: int, parts: int, encoded: bytes) -> bytes:
        """``call`` of keys and arguments already in RESP (``bulk``: ``parts`` of them, the first
        ``keys`` the keys), so that a caller sending the same ones on every call encodes them once."""
        return b"*%d\r\n%s$%d\r\n%d\r\n%s" % (3 + parts, self._called, len(b"%d" % keys), keys, encoded)


def pack(*parts: bytes | str | int | float) -> bytes:
    """One command in RESP (an array of bulk strings)."""
    return b"*%d\r\n%s" % (len(parts), bulk(parts))


def bulk(parts: Iterable[bytes | str | int | float]) -> bytes:
    """Each part as a RESP bulk string, one after the other (a command's parts, without its header)."""
    out = []
    for part in parts:
        if type(part) is bytes:
            data = part
        elif type(part) is str:
            data = part.encode()
        elif type(part) is int:
            data = b"%d" % part  # what repr gives, without the str in between
        else:
            data = repr(part).encode()
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
    kind = buffer[at]
    if kind == 0x24:  # $ (the commonest first)
        size = int(buffer[at + 1:end])
        if size < 0:
            return None, end + 2
        if size > MAX_REPLY:
            raise WireError(f"a bulk string of {size} bytes")
        if len(buffer) < end + 4 + size:
            return INCOMPLETE, at
        if buffer[end + 2 + size:end + 4 + size] != b"\r\n":
            raise WireError("a bulk string not ended by CRLF where its length says")
        return bytes(buffer[end + 2:end + 2 + size]), end + 4 + size
    if kind == 0x3A:  # :
        return int(buffer[at + 1:end]), end + 2
    if kind == 0x2B:  # +
        return bytes(buffer[at + 1:end]), end + 2
    if kind == 0x2D:  # -
        return ReplyError(bytes(buffer[at + 1:end]).decode(errors="replace")), end + 2
    if kind == 0x2A:  # *
        size, items, position = int(buffer[at + 1:end]), [], end + 2
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
    def __init__(self, timeout: float) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiting: deque[tuple[asyncio.Future[Reply], float]] = deque()  # each with the time it is due by
        self.buffer = bytearray()
        self.lost: Exception | None = None
        self.timeout = timeout
        self.watchdog: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # a stream connection's (create_connection)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buffer: bytes | bytearray = data
        if self.buffer:  # the rest of a reply that came in parts
            self.buffer += data
            buffer = self.buffer
        at = 0
        try:
            while self.waiting:
                reply, after = parse(buffer, at)
                if reply is INCOMPLETE:
                    break
                at = after
                waiter = self.waiting.popleft()[0]
                if not waiter.done():  # a caller that gave up still had its reply come, in order
                    waiter.set_result(reply)
        except (ValueError, WireError) as exc:
            self.fail(WireError(f"unreadable reply from Redis: {exc}"))
            return
        if buffer is data:
            if at < len(data):
                self.buffer += data[at:]
        else:
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
        if self.watchdog is not None:
            self.watchdog.cancel()
            self.watchdog = None
        while self.waiting:
            waiter = self.waiting.popleft()[0]
            if not waiter.done():
                waiter.set_exception(self.lost)
        if self.transport is not None:
            self.transport.abort()

    def send(self, data: bytes, count: int) -> list[asyncio.Future[Reply]]:
        if self.lost is not None or self.transport is None or self.transport.is_closing():
            raise self.lost or WireError("connection to Redis closed")
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in range(count)]
        due = loop.time() + self.timeout
        self.waiting.extend((future, due) for future in futures)
        self._watch_from(loop, due)
        self.transport.write(data)
        return futures

    def send_one(self, data: bytes) -> asyncio.Future[Reply]:
        """``send`` of one command, without the list."""
        if self.lost is not None or self.transport is None or self.transport.is_closing():
            raise self.lost or WireError("connection to Redis closed")
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        due = loop.time() + self.timeout
        self.waiting.append((future, due))
        self._watch_from(loop, due)
        self.transport.write(data)
        return future

    def _watch_from(self, loop: asyncio.AbstractEventLoop, due: float) -> None:
        if self.watchdog is None:
            self.watchdog = loop.call_at(due, self._watch, loop)

    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        """The oldest request still waiting is past its time: Redis is not answering, fail them all;
        otherwise look again when it will be."""
        self.watchdog = None
        if not self.waiting or self.lost is not None:
            return  # the next request sent arms it again
        due = self.waiting[0][1]
        if loop.time() >= due:
            self.fail(WireTimeout(f"Redis did not answer within {self.timeout:g} s"))
        else:
            self.watchdog = loop.call_at(due, self._watch, loop)


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

    async def evalsha(
        self, script: Script, keys: Sequence[bytes | str], args: Sequence[bytes | str | int | float]
    ) -> Reply:
        """The script's reply; an error reply raises ``WireError`` (after one reload for ``NOSCRIPT``)."""
        return await self.evalsha_encoded(script, len(keys), len(keys) + len(args), bulk((*keys, *args)))

    async def evalsha_encoded(self, script: Script, keys: int, parts: int, encoded: bytes) -> Reply:
        """``evalsha`` of keys and arguments already in RESP (``Script.call_encoded``)."""
        reply = await self._one(script.call_encoded(keys, parts, encoded))
        if type(reply) is ReplyError and reply.startswith("NOSCRIPT"):
            reply = await self._one(b"*%d\r\n%s%s" % (3 + parts, bulk((b"EVAL", script.text, keys)), encoded))
        if type(reply) is ReplyError:
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

    async def _one(self, data: bytes) -> Reply:
        """One command's reply (a task cancelled meanwhile cancels its future; the reply, when it comes,
        is skipped in order)."""
        protocol = self._protocol
        if protocol is None or protocol.lost is not None or self._loop is not asyncio.get_running_loop():
            protocol = await self._open(asyncio.get_running_loop())
        return await protocol.send_one(data)

    async def _exchange(self, data: bytes, count: int) -> list[Reply]:
        protocol = self._protocol
        loop = asyncio.get_running_loop()
        if protocol is None or protocol.lost is not None or self._loop is not loop:
            protocol = await self._open(loop)
        return await _replies(protocol.send(data, count))

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
                _, protocol = await loop.create_connection(
                    lambda: _Protocol(self._timeout), self.host, self.port, ssl=self._ssl,
                )
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


def _ssl_context(options: Mapping[str, Any]) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=options.get("ssl_ca_certs"))
    if str(options.get("ssl_cert_reqs", "required")).lower() in ("none", "optional"):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE if str(options["ssl_cert_reqs"]).lower() == "none" else ssl.CERT_OPTIONAL
    return context
