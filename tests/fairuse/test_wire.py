"""The counters' own Redis connection: replies read however they arrive, pipelined requests each get
their own reply, scripts the server lacks are sent again, and every failure (an error reply, no answer
in time, a lost or unreachable server) is a ``WireError`` that fails the requests waiting, never a hang."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from hub.fairuse.wire import INCOMPLETE, MAX_DEPTH, MAX_REPLY, ReplyError, Script, Wire, WireError, pack, parse

ECHO = Script(b"return {ARGV[1], tonumber(ARGV[2]) * 2}")


@pytest.fixture
async def wire(redis_url: str) -> AsyncIterator[Wire]:
    found = Wire(redis_url, (ECHO,), timeout=2.0)
    yield found
    await found.aclose()


def test_pack_writes_each_part_as_a_bulk_string() -> None:
    assert pack(b"EVALSHA", "k\u00e9y", 3, 0.5) == b"*4\r\n$7\r\nEVALSHA\r\n$4\r\nk\xc3\xa9y\r\n$1\r\n3\r\n$3\r\n0.5\r\n"


def test_a_reply_is_read_only_once_all_of_it_has_arrived() -> None:
    reply = b"*4\r\n$5\r\nhello\r\n:42\r\n*2\r\n+OK\r\n$-1\r\n-ERR no such thing\r\n"
    for cut in range(len(reply)):  # every split point: a part alone is never taken for a reply
        assert parse(reply[:cut], 0) == (INCOMPLETE, 0)
    value, after = parse(reply + b":7\r\n", 0)
    assert value == [b"hello", 42, [b"OK", None], ReplyError("ERR no such thing")]
    assert after == len(reply)
    assert parse(b"$0\r\n\r\n", 0) == (b"", 6)
    assert parse(b"$5\r\nhello\r", 0) == (INCOMPLETE, 0)  # a bulk string ends with its CRLF


def test_bytes_that_are_no_reply_are_refused() -> None:
    with pytest.raises(WireError, match="not a Redis reply"):
        parse(b"?what\r\n", 0)


async def test_a_script_answers_through_its_sha(wire: Wire) -> None:
    assert await wire.evalsha(ECHO, [], ["x", 21]) == [b"x", 42]


async def test_requests_sent_together_each_get_their_own_reply(wire: Wire) -> None:
    replies = await asyncio.gather(*(wire.evalsha(ECHO, [], [f"n{i}", i]) for i in range(300)))
    assert replies == [[f"n{i}".encode(), 2 * i] for i in range(300)]


async def test_a_script_the_server_does_not_have_is_sent_whole(wire: Wire) -> None:
    unknown = Script(f"-- {uuid.uuid4()}\nreturn ARGV[1]".encode())  # never loaded: EVALSHA says NOSCRIPT
    assert await wire.evalsha(unknown, [], ["again"]) == b"again"
    assert await wire.commands((b"SCRIPT", b"EXISTS", unknown.sha)) == [[1]]


async def test_an_error_reply_raises_and_the_connection_goes_on(wire: Wire) -> None:
    failing = Script(b"return redis.error_reply('BUDGET broken')")
    with pytest.raises(WireError, match="BUDGET broken"):
        await wire.evalsha(failing, [], [])
    with pytest.raises(WireError, match="unknown command"):
        await wire.commands((b"PING",), (b"NOSUCHCOMMAND",))
    assert await wire.evalsha(ECHO, [], ["still", 1]) == [b"still", 2]


async def test_an_unreachable_server_fails_at_once() -> None:
    wire = Wire("redis://127.0.0.1:9/0", (ECHO,), timeout=1.0)  # the discard port: nothing listens
    with pytest.raises(WireError, match="cannot reach Redis"):
        await wire.evalsha(ECHO, [], ["x", 1])


async def test_a_server_that_does_not_answer_fails_the_waiting_requests_after_the_timeout() -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)
        await reader.read(1 << 20)  # takes the commands, answers nothing

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    wire = Wire(f"redis://127.0.0.1:{port}/0", (), timeout=0.2)
    try:
        raced = await asyncio.wait_for(
            asyncio.gather(*(wire.commands((b"PING",)) for _ in range(5)), return_exceptions=True), 5,
        )
        assert all(isinstance(r, WireError) and "within 0.2 s" in str(r) for r in raced)
    finally:
        await wire.aclose()
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_connection_busy_past_the_timeout_with_every_reply_in_time_is_never_failed() -> None:
    # One timer watches the oldest request waiting: requests answered in time, one after another
    # and overlapping, for several times the timeout, must not be failed by a timer set for an
    # earlier one (each reply comes 0.05 s after its command, the timeout is 0.2 s).
    async with _Delayed(0.05) as url:
        wire = Wire(url, (), timeout=0.2)
        try:
            started = asyncio.get_running_loop().time()
            while asyncio.get_running_loop().time() - started < 0.8:
                replies = await asyncio.gather(wire.commands((b"PING",)), wire.evalsha(ECHO, [], ["x", 1]))
                assert replies == [[b"PONG"], b"PONG"]
        finally:
            await wire.aclose()


async def test_a_request_whose_caller_gave_up_still_fails_the_connection_when_its_reply_never_comes() -> None:
    # A caller cancelled while waiting leaves its place in the order: when Redis never answers it,
    # the requests sent after it fail after the timeout instead of waiting for ever.
    async with _Delayed(None) as url:
        wire = Wire(url, (), timeout=0.2)
        try:
            given_up = asyncio.ensure_future(wire.evalsha(ECHO, [], ["x", 1]))
            await asyncio.sleep(0.05)
            given_up.cancel()
            with pytest.raises(WireError, match="within 0.2 s"):
                await asyncio.wait_for(wire.commands((b"PING",)), 5)
        finally:
            await wire.aclose()


async def test_a_lost_connection_fails_its_requests_and_the_next_call_opens_a_new_one(redis_url: str) -> None:
    wire = Wire(redis_url, (ECHO,), timeout=2.0)
    try:
        name = f"fairuse-wire-{uuid.uuid4().hex[:8]}"
        assert await wire.commands((b"CLIENT", b"SETNAME", name)) == [b"OK"]
        blocked = asyncio.ensure_future(wire.commands((b"BLPOP", f"{name}:never", 5)))
        await asyncio.sleep(0.1)
        killer = Wire(redis_url, (), timeout=2.0)
        await killer.commands((b"CLIENT", b"KILL", b"SKIPME", b"yes", b"ID", await _client_id(killer, name)))
        await killer.aclose()
        with pytest.raises(WireError, match="connection to Redis"):
            await asyncio.wait_for(blocked, 3)
        assert await wire.evalsha(ECHO, [], ["back", 2]) == [b"back", 4]
    finally:
        await wire.aclose()


async def _client_id(wire: Wire, name: str) -> int:
    (listing,) = await wire.commands((b"CLIENT", b"LIST"))
    for line in listing.decode().splitlines():
        fields = dict(part.split("=", 1) for part in line.split() if "=" in part)
        if fields.get("name") == name:
            return int(fields["id"])
    raise AssertionError(f"no client named {name}")


async def test_the_url_s_database_is_chosen_and_its_password_sent(redis_url: str, redis_prefix: str) -> None:
    from redis.asyncio import Redis

    base = redis_url.rsplit("/", 1)[0]
    wire = Wire(f"{base}/5", (ECHO,), timeout=2.0)
    general = Redis.from_url(f"{base}/5")
    try:
        await wire.commands((b"SET", f"{redis_prefix}db", b"five"))
        assert await general.get(f"{redis_prefix}db") == b"five"
        await general.delete(f"{redis_prefix}db")
    finally:
        await wire.aclose()
        await general.aclose()
    with_password = Wire(redis_url.replace("redis://", "redis://:not-the-password@"), (ECHO,), timeout=2.0)
    with pytest.raises(WireError, match="setup.*(AUTH|password)"):  # this Redis has none: AUTH was sent
        await with_password.evalsha(ECHO, [], ["x", 1])


def test_lengths_past_the_limit_deep_nesting_and_a_bulk_string_without_its_crlf_are_refused() -> None:
    for broken in (
        b"$%d\r\n" % (MAX_REPLY + 1),  # never waited for: it would be buffered until the timeout
        b"*%d\r\n" % (MAX_REPLY + 1),
        b"*1\r\n" * (MAX_DEPTH + 1) + b":1\r\n",
        b"*1\r\n" * 5000 + b":1\r\n",  # not a RecursionError
        b"$1\r\nXYZ\r\n",  # the length says one byte: the rest is no reply
    ):
        with pytest.raises(WireError):
            parse(broken, 0)
    assert parse(b"*1\r\n" * MAX_DEPTH + b":1\r\n", 0)[0] is not INCOMPLETE


class _Scripted:
    """A server speaking RESP as told: ``answer(command)`` gives the bytes written back for each command."""

    def __init__(self, answer: Callable[[list[bytes]], bytes], tls: ssl.SSLContext | None = None) -> None:
        self.answer = answer
        self.commands: list[list[bytes]] = []
        self._tls = tls
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self._tls)
        scheme = "rediss" if self._tls else "redis"
        return f"{scheme}://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/0"

    async def __aexit__(self, *exc: object) -> None:
        for writer in self._writers:
            writer.close()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        buffer = bytearray()
        while data := await _read(reader):
            buffer += data
            while True:
                command, after = parse(buffer, 0)
                if command is INCOMPLETE:
                    break
                del buffer[:after]
                self.commands.append(command)
                writer.write(self.answer(command))
            await writer.drain()


class _Delayed:
    """A server that answers every command ``+PONG`` after ``delay`` seconds (``None``: never)."""

    def __init__(self, delay: float | None) -> None:
        self.delay = delay
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"redis://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/0"

    async def __aexit__(self, *exc: object) -> None:
        for writer in self._writers:
            writer.close()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        loop, buffer = asyncio.get_running_loop(), bytearray()
        while data := await _read(reader):
            buffer += data
            while True:
                command, after = parse(buffer, 0)
                if command is INCOMPLETE:
                    break
                del buffer[:after]
                if self.delay is not None:
                    loop.call_later(self.delay, writer.write, b"+PONG\r\n")


async def test_a_reply_no_request_asked_for_is_never_taken_for_the_next_request_s() -> None:
    def answer(command: list[bytes]) -> bytes:  # a GET answered twice: its own value, then a stale one
        return b"$%d\r\n%s\r\n$5\r\nstale\r\n" % (len(command[1]), command[1])

    async with _Scripted(answer) as url:
        wire = Wire(url, (), timeout=1.0)
        try:
            assert await wire.commands((b"GET", b"first")) == [b"first"]
            await asyncio.sleep(0.1)  # the stale reply has come while nobody waits
            second = await asyncio.gather(wire.commands((b"GET", b"second")), return_exceptions=True)
            assert second != [[b"stale"]]
            assert second == [[b"second"]]  # on a new connection: the one that sent the stray reply is closed
        finally:
            await wire.aclose()


async def test_a_server_announcing_a_huge_reply_fails_at_once_not_after_the_timeout() -> None:
    async with _Scripted(lambda command: b"$99999999999\r\nxxxx") as url:
        wire = Wire(url, (), timeout=30.0)
        try:
            with pytest.raises(WireError, match="unreadable reply"):
                await asyncio.wait_for(wire.commands((b"PING",)), 5)
        finally:
            await wire.aclose()


async def test_a_reply_with_its_frame_broken_fails_the_requests_and_the_next_call_reconnects() -> None:
    replies = iter([b"$1\r\nXYZ\r\n", b"+PONG\r\n"])
    async with _Scripted(lambda command: next(replies)) as url:
        wire = Wire(url, (), timeout=1.0)
        try:
            with pytest.raises(WireError, match="unreadable reply"):
                await wire.commands((b"PING",))
            assert await wire.commands((b"PING",)) == [b"PONG"]
        finally:
            await wire.aclose()


async def _read(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.read(1 << 16)
    except (ConnectionError, ssl.SSLError):  # a client that refused the server's certificate
        return b""


def _certificate(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """A server context for 127.0.0.1 with a self-signed certificate, and the certificate's file."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "counters test")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "redis.crt", directory / "redis.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context, cert_file


def _answer_setup(command: list[bytes]) -> bytes:
    return b"+PONG\r\n" if command[0] == b"PING" else b"+OK\r\n"


async def test_rediss_refuses_a_server_whose_certificate_it_cannot_verify(tmp_path: Path) -> None:
    server_tls, _ = _certificate(tmp_path)
    async with _Scripted(_answer_setup, server_tls) as url:
        wire = Wire(url, (), timeout=2.0)
        with pytest.raises(WireError, match="cannot reach Redis"):
            await wire.commands((b"PING",))
        await wire.aclose()


async def test_rediss_trusts_the_url_s_ca_and_logs_in_over_tls_or_skips_checks_when_told(tmp_path: Path) -> None:
    server_tls, cert_file = _certificate(tmp_path)
    scripted = _Scripted(_answer_setup, server_tls)
    async with scripted as url:
        host = url.split("://", 1)[1].split("/", 1)[0]
        for told in (f"rediss://counters:s3cret@{host}/4?ssl_ca_certs={cert_file}",
                     f"rediss://counters:s3cret@{host}/4?ssl_cert_reqs=none"):
            wire = Wire(told, (), timeout=2.0)
            try:
                assert await wire.commands((b"PING",)) == [b"PONG"]
            finally:
                await wire.aclose()
        assert scripted.commands[:3] == [[b"AUTH", b"counters", b"s3cret"], [b"SELECT", b"4"], [b"PING"]]
