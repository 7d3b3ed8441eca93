"""``hub serve``: run the hub on the configured sources."""

from __future__ import annotations

import argparse
from pathlib import Path

from hub.settings import Settings, load_settings


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("serve", help="run the hub on the configured sources")
    parser.add_argument("--config", type=Path, help="settings file (TOML); default: $HUB_CONFIG")
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8000)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = load_settings(args.config, **overrides)
    serve(settings, workers=args.workers)
    return 0


def serve(settings: Settings, *, workers: int = 1) -> None:
    import uvicorn

    from hub.app import create_app
    from hub.oauth.server import check_production

    check_production(settings)  # refuse to start without what tokens need (keys, issuer, registry)
    print(f"The hub is at http://{settings.host}:{settings.port}/graphql ({settings.environment})", flush=True)
    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port, log_level="warning",
        access_log=False, workers=workers if workers > 1 else None,
    )
