"""``hub serve``: run the hub on the configured sources.

A production replica whose registry database is behind the code's migrations refuses to start,
naming ``hub migrate``; one whose database is not reachable yet starts not ready (``/readyz``).
Forwarded headers are the app's business (``Settings.trusted_proxies``), so uvicorn's own proxy
header handling, which believes 127.0.0.1 by default, is off.

``--workers N`` runs N processes on one port, each building its app from the same settings (the
configuration file, ``HUB_*`` variables and the command's ``--host``/``--port``, handed to them in the
environment). They are replicas in all but name: they share what replicas share, so the DPoP replay
cache must be one they all see (``HUB_REPLAY_CACHE_URL=redis://...``); with the in-process one a
proof replayed to another worker would pass, so such a start is refused.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from hub.commands.settings import command_settings
from hub.settings import Settings, SettingsError


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("serve", help="run the hub on the configured sources")
    parser.add_argument("--config", type=Path, help="settings file (TOML); default: $HUB_CONFIG")
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8000)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = command_settings(args.config, **overrides)
    if args.workers > 1:  # each worker reads the same settings: the file and the overrides as variables
        if args.config is not None:
            os.environ["HUB_CONFIG"] = str(args.config)
        os.environ.update({"HUB_HOST": settings.host, "HUB_PORT": str(settings.port)})
    serve(settings, workers=args.workers)
    return 0


def worker_app() -> Any:
    """One worker's app (``--workers N``): the settings ``run`` put in the environment."""
    from hub.app import create_app

    return create_app(command_settings(None))


def serve(settings: Settings, *, workers: int = 1) -> None:
    import uvicorn

    from hub.app import create_app
    from hub.oauth.server import check_production

    if workers < 1:
        raise SettingsError(f"--workers must be 1 or more (got {workers})")
    if workers > 1 and (settings.replay_cache_url == "memory" or settings.single_process):
        raise SettingsError(
            f"--workers {workers} runs {workers} processes, which must share the DPoP replay cache: set "
            "HUB_REPLAY_CACHE_URL=redis://... (and not HUB_SINGLE_PROCESS), or run one worker"
        )
    check_production(settings)  # refuse to start without what tokens need (keys, issuer, registry)
    if settings.log_format == "json":
        from hub.telemetry.logs import use_json_lines

        use_json_lines()
    if not settings.migrates_at_start:
        asyncio.run(refuse_registry_behind(settings))
    elif workers > 1:
        asyncio.run(migrate_once(settings))  # before the workers, which would otherwise race to do it
    tls = _tls(settings)
    scheme = "https" if tls else "http"
    print(f"The hub is at {scheme}://{settings.host}:{settings.port}/graphql ({settings.environment})", flush=True)
    app: Any = create_app(settings) if workers == 1 else f"{__name__}:worker_app"
    uvicorn.run(
        app, factory=workers > 1, host=settings.host, port=settings.port, log_level="warning",
        access_log=False, workers=workers if workers > 1 else None, proxy_headers=False, **tls,
    )


async def migrate_once(settings: Settings) -> None:
    """Bring a registry that migrates at start-up (development's) to the code's revision, once."""
    from hub.store import connect, migrate

    engine = connect(settings.registry_url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


async def refuse_registry_behind(settings: Settings) -> None:
    """Raise ``RegistryBehind`` (a settings error: exit 2 with its message) when the database is
    reachable and older than the code; an unreachable one is only a warning."""
    from hub.store import connect
    from hub.store.revision import RegistryBehind, require_migrated

    engine = connect(settings.registry_url)
    try:
        await require_migrated(engine)
    except RegistryBehind:
        raise
    except Exception as exc:  # noqa: BLE001 - not reachable yet: start, not ready
        print(f"hub serve: the registry database is not reachable yet ({exc}); /readyz says so", file=sys.stderr)
    finally:
        await engine.dispose()


def _tls(settings: Settings) -> dict[str, Any]:
    """TLS ending in the hub, gateways' client certificates passed to the app (README "Federation")."""
    if settings.tls_certificate is None or settings.tls_key is None or settings.tls_client_ca is None:
        return {}
    from hub.federation.tls import server_context_options

    return server_context_options(str(settings.tls_certificate), str(settings.tls_key), str(settings.tls_client_ca))
