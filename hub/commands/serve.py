"""``hub serve``: run the hub on the configured sources.

A production replica whose registry database is behind the code's migrations refuses to start,
naming ``hub migrate``; one whose database is not reachable yet starts not ready (``/readyz``).
Forwarded headers are the app's business (``Settings.trusted_proxies``), so uvicorn's own proxy
header handling, which believes 127.0.0.1 by default, is off.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from hub.commands.settings import command_settings
from hub.settings import Settings


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
    serve(settings, workers=args.workers)
    return 0


def serve(settings: Settings, *, workers: int = 1) -> None:
    import uvicorn

    from hub.app import create_app
    from hub.oauth.server import check_production

    check_production(settings)  # refuse to start without what tokens need (keys, issuer, registry)
    if settings.log_format == "json":
        from hub.telemetry.logs import use_json_lines

        use_json_lines()
    if not settings.migrates_at_start:
        asyncio.run(refuse_registry_behind(settings))
    tls = _tls(settings)
    scheme = "https" if tls else "http"
    print(f"The hub is at {scheme}://{settings.host}:{settings.port}/graphql ({settings.environment})", flush=True)
    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port, log_level="warning",
        access_log=False, workers=workers if workers > 1 else None, proxy_headers=False, **tls,
    )


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
