"""Running the demo departments' own services (REST and GraphQL) as real HTTP servers.

Two departments of the demo publish no SQL to the hub: Ecology and Environment answers over REST,
Public Security over GraphQL. Each is a small starlette app on its department's SQLite file; here are
the pieces both share (a read-only database opened in the app's lifespan, JSON responses, ``/healthz``)
and a way to run any ASGI app in a background thread, so the hub's tests can talk to a department
over a real socket and stop it mid-test.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import aiosqlite
import orjson
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse

logger = logging.getLogger(__name__)

STARTUP_TIMEOUT_SECONDS = 10.0
# uvicorn otherwise waits for in-flight requests forever; stop() must not hang a test run.
GRACEFUL_SHUTDOWN_SECONDS = 5
# After the grace: the app's lifespan shutdown (a department disposes its pool) and the loop's end.
SHUTDOWN_STEPS_SECONDS = 5.0
# Once every task left on the service's loop is cancelled, what its thread takes to end.
FORCED_STOP_SECONDS = 5.0


class ORJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        # SQLAlchemy's row keys are ``quoted_name``, a str subclass orjson refuses as a key by default.
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


async def healthz(request: Request) -> ORJSONResponse:
    return ORJSONResponse({"status": "ok"})


def readonly_sqlite_engine(db_path: Path) -> AsyncEngine:
    """An async engine that can only read ``db_path``.

    The connection is made from a ``file:`` URI rather than a SQLAlchemy URL: ``mode=ro`` keeps a
    department's service from ever writing its register (or creating an empty file on a typo), and
    ``Path.as_uri`` escapes characters such as ``#`` that SQLAlchemy's URL parsing would mangle.
    """
    uri = db_path.resolve().as_uri() + "?mode=ro"

    async def connect() -> aiosqlite.Connection:
        return await aiosqlite.connect(uri, uri=True)

    # Without a database in the URL SQLAlchemy would pick StaticPool, one connection for all requests.
    return create_async_engine("sqlite+aiosqlite://", async_creator=connect, poolclass=AsyncAdaptedQueuePool)


def database_lifespan(db_path: Path) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """A lifespan that opens ``db_path`` read-only as ``app.state.engine`` and disposes it on shutdown."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Fail at start-up with the path in the message, not on the first request with a vague one.
        if not db_path.is_file():  # noqa: ASYNC240  once, at start-up
            raise FileNotFoundError(f"department database {db_path} does not exist")
        engine = readonly_sqlite_engine(db_path)
        app.state.engine = engine
        try:
            yield
        finally:
            await engine.dispose()

    return lifespan


class RunningService:
    """An ASGI app served by uvicorn on a background thread with its own event loop.

    ``stop`` is bounded: in-flight requests get ``grace`` seconds, the app's shutdown
    ``SHUTDOWN_STEPS_SECONDS`` more; past that every task left on the service's loop is cancelled.
    """

    def __init__(
        self, app: Any, host: str, port: int, *, grace: int = GRACEFUL_SHUTDOWN_SECONDS, **options: Any
    ) -> None:
        self._scheme = "https" if options.get("ssl_certfile") else "http"
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=grace,
            **options,  # TLS (``hub.federation.tls.server_context_options``)
        )
        self._server = uvicorn.Server(config)
        self._stop_timeout = grace + SHUTDOWN_STEPS_SECONDS
        self._loop: asyncio.AbstractEventLoop | None = None
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"demo-service-{host}:{port}", daemon=True)
        self._stopped = False
        self.url = ""

    def _run(self) -> None:
        try:
            with asyncio.Runner() as runner:
                self._loop = runner.get_loop()
                runner.run(self._server.serve())
        # uvicorn reports a failed start-up (port taken, lifespan error) with sys.exit: keep it for
        # start(); a forced stop ends serve() with CancelledError.
        except BaseException as exc:  # noqa: BLE001
            self._failure = exc

    def start(self) -> RunningService:
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"service did not start: {self._failure!r} (uvicorn logged the cause)")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"service did not start within {STARTUP_TIMEOUT_SECONDS} s")
            time.sleep(0.01)
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        self.url = f"{self._scheme}://[{host}]:{port}" if ":" in host else f"{self._scheme}://{host}:{port}"
        return self

    def stop(self) -> None:
        """Close the listening socket and open connections, run the app's shutdown, join the thread."""
        if self._stopped:
            return
        self._stopped = True
        self._server.should_exit = True
        self._thread.join(self._stop_timeout)
        if self._thread.is_alive():
            # A step that never finishes (the app's lifespan shutdown awaiting a pool, a clean-up
            # waiting on a connection) holds the thread; uvicorn's force_exit is only read between
            # steps, so it cannot end one. Cancelling every task on the loop does, and serve() ends.
            self._server.force_exit = True
            self._cancel_every_task()
            self._thread.join(FORCED_STOP_SECONDS)

    def _cancel_every_task(self) -> None:
        loop = self._loop
        if loop is None:
            return

        def cancel() -> None:
            tasks = asyncio.all_tasks(loop)
            # What was still waiting says which step hung: the next run's log names it.
            logger.warning("%s did not stop within %s s; cancelling the tasks waiting in %s", self.url,
                           self._stop_timeout, "; ".join(_waiting_in(task) for task in tasks))
            for task in tasks:
                task.cancel("the service is stopping and its shutdown did not finish in time")

        try:
            loop.call_soon_threadsafe(cancel)
        except RuntimeError:  # the loop closed meanwhile: the thread is ending by itself
            pass

    def __enter__(self) -> RunningService:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _waiting_in(task: asyncio.Task[Any]) -> str:
    """The innermost coroutine a task is suspended in, with its file and line."""
    where = repr(task)
    awaited: Any = task.get_coro()
    while awaited is not None:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        if frame is not None:
            where = f"{frame.f_code.co_name} ({frame.f_code.co_filename}:{frame.f_lineno})"
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    return where


def serve_in_thread(
    app: Any, host: str = "127.0.0.1", port: int = 0, *, grace: int = GRACEFUL_SHUTDOWN_SECONDS, **options: Any
) -> RunningService:
    """Serve ``app`` over HTTP on ``host:port`` (0: any free port) and return once it accepts connections.

    ``grace``: how long ``stop`` lets in-flight requests finish. ``options`` go to uvicorn as they are
    (TLS: ``hub.federation.tls.server_context_options``).
    """
    return RunningService(app, host, port, grace=grace, **options).start()


def run_demo_services(
    data_dir: Path, ecology_port: int = 8101, security_port: int = 8102
) -> list[RunningService]:
    """Start the Ecology (REST) and Public Security (GraphQL) services on their department files."""
    # Imported here because both service modules import the shared helpers above from this module.
    from hub.demo import ecology_service, security_service

    ecology = serve_in_thread(ecology_service.create_app(data_dir / "ecology.sqlite"), port=ecology_port)
    try:
        security = serve_in_thread(
            security_service.create_app(data_dir / "security.sqlite"), port=security_port
        )
    except BaseException:
        ecology.stop()
        raise
    return [ecology, security]
