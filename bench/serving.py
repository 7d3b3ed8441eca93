"""How the bench serves an ASGI app: the same uvicorn options for the hub and the floor.

uvloop and httptools are used only when already installed (the project does not depend on them);
whatever is picked is what the report records, and both targets get the same.
"""

from __future__ import annotations

import importlib.util
from typing import Any


def server_options() -> dict[str, Any]:
    return {
        "loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        "http": "httptools" if importlib.util.find_spec("httptools") else "h11",
        "log_level": "warning",
        "access_log": False,
    }


def serve(app: Any, port: int) -> None:
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=port, **server_options())
