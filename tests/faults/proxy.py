"""A TCP proxy that can fail on purpose, put between the hub and PostgreSQL or Redis.

It runs its own asyncio loop in a thread, so in-process tests and tests driving hub processes
use it alike. ``url`` gives the service's URL rewritten to the proxy's port. Faults:

- ``refuse()``: stop listening and cut every open connection (the service is down or restarting);
- ``drop()``: cut every open connection with a reset, keep listening (a network blip, a restart
  that came back at once);
- ``freeze()``: keep every connection open and accept new ones, but move no byte either way (the
  service hangs: a stopped process, a full disk, a partition that loses packets silently);
- ``restore()``: back to normal; bytes held by a freeze are delivered, as a resumed process would.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any


class FaultyProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="faulty-proxy", daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self._flowing = asyncio.Event()
        self._writers: set[asyncio.StreamWriter] = set()

    def url(self, service_url: str) -> str:
        """``service_url`` with its ``host:port`` replaced by the proxy's."""
        host, port = self.upstream
        return service_url.replace(f"{host}:{port}", f"127.0.0.1:{self.port}", 1)

    def start(self) -> FaultyProxy:
        self._thread.start()
        self._call(self._flow())
        self._call(self._listen())
        return self

    def stop(self) -> None:
        self._call(self._shut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def refuse(self) -> None:
        self._call(self._refuse())

    def drop(self) -> None:
        self._call(self._cut())

    def freeze(self) -> None:
        self._loop.call_soon_threadsafe(self._flowing.clear)

    def restore(self) -> None:
        self._call(self._flow())
        self._call(self._listen())

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _flow(self) -> None:
        self._flowing.set()

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)

    async def _refuse(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        await self._cut()

    async def _shut(self) -> None:
        """Refuse, and end every connection's task (a frozen one is still waiting to flow)."""
        await self._refuse()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _cut(self) -> None:
        for writer in list(self._writers):
            with contextlib.suppress(Exception):
                writer.transport.abort()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        await self._flowing.wait()
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self._writers.add(up_writer)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.transport.abort()


@contextlib.contextmanager
def proxied(host: str, port: int) -> Iterator[FaultyProxy]:
    proxy = FaultyProxy(host, port).start()
    try:
        yield proxy
    finally:
        proxy.stop()
