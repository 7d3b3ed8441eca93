"""Helpers for the deployment tests: production settings without start-up migrations, free ports,
a throwaway redis-server, and a TCP proxy that stands in for a network path that can be cut.

The machine's shared PostgreSQL and Redis are never stopped: a test that needs "PostgreSQL is down"
cuts its own proxy in front of it, and "Redis is down" stops a redis-server the test started.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.settings import Settings, load_settings
from hub.store.sealing import new_key_encryption_key
from tests.conftest import RUN_ID, postgres_database

ISSUER = "https://hub.test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def production(database_url: str, demo_data_dir: Path, **overrides: Any) -> Settings:
    """A production hub as an operator runs it: migrations are ``hub migrate``'s, never its own."""
    overrides.setdefault("single_process", True)
    overrides.setdefault("key_encryption_key", new_key_encryption_key())
    overrides.setdefault("migrate_at_start", False)
    return load_settings(
        environment="production", issuer=ISSUER, database_url=database_url, demo_data_dir=demo_data_dir,
        **overrides,
    )


class RedisServer:
    """A redis-server of the test's own on a free port, stopped and started at will."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.dir = tmp
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (Debian package redis-server)")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class TcpProxy:
    """Forwards a local port to a server; ``cut()`` closes the listener and every open connection,
    as a lost network path or a stopped server would, and ``restore()`` listens again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def restore(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer), return_exceptions=True)
        self._writers -= {writer, up_writer}


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.transport.abort()


@pytest.fixture
async def fresh_postgres(postgres_url: str) -> AsyncIterator[str]:
    """An empty PostgreSQL database of the test's own, as a new deployment has."""
    async with postgres_database(postgres_url, f"hub_deploy_{RUN_ID}_{uuid.uuid4().hex[:6]}") as url:
        yield url


@pytest.fixture
async def postgres_proxy(fresh_postgres: str) -> AsyncIterator[tuple[TcpProxy, str]]:
    """The test's PostgreSQL database reached through a proxy the test can cut: (proxy, its URL)."""
    proxy = TcpProxy(("127.0.0.1", 5432))
    await proxy.restore()
    try:
        yield proxy, fresh_postgres.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    finally:
        await proxy.cut()
