"""``hub demo``: the demo departments and the hub over them, on one machine, from one command."""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from hub.settings import PROJECT_ROOT, Settings, load_settings

DEMO_DIR = PROJECT_ROOT / ".demo"
SERVICES = {"ecology": 8101, "security": 8102}


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "demo", help="set up and run the demo (SQLite departments, GraphiQL)",
        description="Generate the demo departments (once), install GraphiQL (once), start the "
        "Ecology REST and Public Security GraphQL services, and run the hub in development mode.",
    )
    _data_options(parser)
    parser.add_argument("--regenerate", action="store_true", help="regenerate the data even if present")
    parser.add_argument("--setup-only", action="store_true", help="set up, do not start anything")
    parser.add_argument("--port", type=int, default=8000, help="the hub's port (default 8000)")
    parser.set_defaults(run=run_demo)
    sub = parser.add_subparsers(metavar="ACTION")
    gen = sub.add_parser("generate", help="(re)generate the demo departments' databases")
    _data_options(gen)
    gen.set_defaults(run=run_generate)
    service = sub.add_parser("service", help="run one demo department service")
    service.add_argument("name", choices=sorted(SERVICES))
    service.add_argument("--port", type=int, help="port (default: ecology 8101, security 8102)")
    service.add_argument("--host", default="127.0.0.1", help="address to listen on (a container: 0.0.0.0)")
    service.add_argument("--data-dir", type=Path, default=DEMO_DIR / "data")
    service.set_defaults(run=run_service)


def _data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=DEMO_DIR / "data", help="where the SQLite files go")
    parser.add_argument("--seed", type=int, default=20261126, help="random seed (same seed, same data)")
    parser.add_argument("--enterprises", type=int, default=5000, help="number of enterprises")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, help="reference date (default today)")


def run_generate(args: argparse.Namespace) -> int:
    from hub.demo.generate import generate

    started = time.perf_counter()
    counts = generate(args.data_dir, seed=args.seed, enterprises=args.enterprises, as_of=args.as_of)
    summary = ", ".join(f"{n} {table}" for table, n in counts.items())
    print(f"Demo data in {args.data_dir} ({time.perf_counter() - started:.1f} s): {summary}")
    return 0


def run_service(args: argparse.Namespace) -> int:
    import uvicorn

    from hub.demo import ecology_service, security_service

    module = ecology_service if args.name == "ecology" else security_service
    app = module.create_app(args.data_dir / f"{args.name}.sqlite")
    uvicorn.run(app, host=args.host, port=args.port or SERVICES[args.name], log_level="warning")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    if args.regenerate or not (args.data_dir / "market.sqlite").is_file():
        run_generate(args)
    settings = demo_settings(args)
    _install_graphiql(settings)
    _register_clients(settings)
    from hub.demo.accounts import announce_demo_accounts

    announce_demo_accounts(settings, DEMO_DIR / "accounts.txt")
    if args.setup_only:
        print("Demo set up. Start it with: make run  (or .venv/bin/hub demo)")
        return 0
    children = [_start_service(name, args.data_dir) for name in SERVICES]
    # uvicorn re-raises the signal that stopped it once it has shut down; SIGTERM's default action
    # would then end this process before `finally`, leaving the services running on their ports.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        for name, port in SERVICES.items():
            _wait_healthy(name, f"http://127.0.0.1:{port}/healthz")
        _announce(settings)
        from hub.commands.serve import serve

        serve(settings)
    finally:
        for child in children:
            child.terminate()
            child.wait(timeout=10)
    return 0


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def demo_settings(args: argparse.Namespace) -> Settings:
    token_file = DEMO_DIR / "ops-token"
    if not token_file.is_file():
        token_file.parent.mkdir(parents=True, exist_ok=True)
        token_file.write_text(secrets.token_urlsafe(32))
        token_file.chmod(0o600)
    return load_settings(
        environment="development", demo_data_dir=args.data_dir, port=args.port,
        ops_token=token_file.read_text().strip(),
        # GraphiQL and curl without a token; the demo clients (.demo/clients/) show the real path.
        anonymous_access=True,
    )


def _register_clients(settings: Settings) -> None:
    from hub.commands.registry import register_demo_clients

    for path in register_demo_clients(settings, DEMO_DIR / "clients"):
        print(f"Demo client registered: {path} (client id and private key)")


def _install_graphiql(settings: Settings) -> None:
    from hub.graphql import graphiql

    if graphiql.installed(settings.graphiql_assets_dir):
        return
    try:
        graphiql.install(settings.graphiql_assets_dir)
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"warning: GraphiQL assets could not be installed ({exc}); /graphql still answers POST",
              file=sys.stderr)


def _start_service(name: str, data_dir: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "hub.cli", "demo", "service", name, "--data-dir", str(data_dir)]
    return subprocess.Popen(command)


def _wait_healthy(name: str, url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"hub demo: the {name} service did not start ({url}); is its port taken?")


def _announce(settings: Settings) -> None:
    base = f"http://{settings.host}:{settings.port}"
    print(
        "\nThe hub is running on the demo departments:\n"
        f"  GraphiQL          {base}/graphql   (open in a browser)\n"
        f"  GraphQL endpoint  POST {base}/graphql\n"
        f"  Metrics           {base}/metrics\n"
        "  Ecology (REST)    http://127.0.0.1:8101/api/v1/discharge-permits\n"
        "  Security (GraphQL) http://127.0.0.1:8102/graphql\n"
        "Stop with Ctrl-C.\n",
        flush=True,
    )
