"""How the bench serves an ASGI app: the same uvicorn options, and the same number of workers, for every target.

uvloop and httptools are used only when already installed (the project does not depend on them);
whatever is picked is what the report records, and every target gets the same.

``BENCH_WORKERS`` (set by ``bench.run`` from ``--workers``, default 1) is how many server processes
uvicorn starts on the one port (``workers=N``: a supervisor and N workers accepting from its socket;
1: the app is served in this process, as before). Each worker builds its own app by calling the
factory named by an import string, so whatever must happen once per target (the hub's token client)
happens in ``main`` before ``serve``.
"""

from __future__ import annotations

import importlib.util
import os
import socket
from pathlib import Path
from typing import Any


def server_options() -> dict[str, Any]:
    return {
        "loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        "http": "httptools" if importlib.util.find_spec("httptools") else "h11",
        "log_level": "warning",
        "access_log": False,
    }


def workers() -> int:
    """``BENCH_WORKERS``: a whole number of at least 1; anything else stops the server with why."""
    raw = os.environ.get("BENCH_WORKERS", "1")
    try:
        count = int(raw)
    except ValueError:
        count = 0
    if count < 1:
        raise SystemExit(f"bench: BENCH_WORKERS must be a whole number of at least 1, not {raw!r}")
    return count


def worker_app() -> Any:
    """One worker's app: ``BENCH_APP`` ("module:function") called; with ``BENCH_READY_DIR``, a file
    named by the worker's pid is put there once its start-up is complete, so that the bench measures
    nothing before every worker serves (``Processes.wait_healthy``)."""
    from uvicorn.importer import import_from_string

    app = import_from_string(os.environ["BENCH_APP"])()
    ready = os.environ.get("BENCH_READY_DIR")
    if not ready:
        return app

    async def reporting(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return

        async def sending(message: Any) -> None:
            await send(message)
            if message["type"] == "lifespan.startup.complete":
                (Path(ready) / str(os.getpid())).touch()

        await app(scope, receive, sending)

    return reporting


def serve(factory: str, port: int) -> None:
    """Serve the app ``factory`` ("module:function", called once in each worker) on ``port``."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    os.environ["BENCH_APP"] = factory  # read by each worker's worker_app
    # The supervisor replaces a worker that does not answer its ping within this many seconds: on a busy
    # shared machine a worker importing the hub, or serving 8 clients, can miss uvicorn's default 5 s and
    # be killed mid-run; a worker that really dies is still replaced at once.
    config = uvicorn.Config("bench.serving:worker_app", factory=True, host="127.0.0.1", port=port,
                            workers=workers(), timeout_worker_healthcheck=60, **server_options())
    if config.workers == 1:
        server = uvicorn.Server(config)
        server.run()  # asyncio binds the port itself: TCP, so Nagle is off on every connection
        if not server.started:
            raise SystemExit(f"bench: the server on port {port} did not start")
        return
    Multiprocess(config, sockets=[listening_socket(port)]).run()


def listening_socket(port: int) -> socket.socket:
    """The workers' shared listening socket, made as asyncio makes its own for one process.

    uvicorn's supervisor binds one with the protocol left at 0 (``Config.bind_socket``); accepted
    connections inherit it, and asyncio turns Nagle's algorithm off (``TCP_NODELAY``) only on a
    socket that says ``IPPROTO_TCP``. A small answer then waits for the client's delayed ACK, about
    40 ms on Linux, on every keep-alive request but the first: several workers would measure slower
    than one for that alone (uvicorn issue 3149)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.set_inheritable(True)  # uvicorn's own does the same: the spawned workers receive it
    return sock
