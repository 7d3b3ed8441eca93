"""The hub as the bench runs it, on the bench's demo data and services.

The graph path is what is measured: the hub runs in development mode with anonymous access (no
token or DPoP proof to check) and GraphiQL off, since the floor has no authentication either.
Measuring with OAuth, policies and the audit on is the bench's next step (bench/README.md).

Parameters come from the environment (set by ``bench.run``): ``BENCH_PORT``, ``BENCH_DATA_DIR``,
``BENCH_TODAY``, ``BENCH_ECOLOGY_URL``, ``BENCH_SECURITY_URL`` and ``BENCH_CACHE`` (``on`` keeps
every department's cache TTL from its binding, as in production; ``off`` sets ``cache_ttl = 0``).
"""

from __future__ import annotations

import os

from bench.serving import serve
from hub.app import create_app
from hub.settings import Settings, load_settings

DEPARTMENTS = ("market", "housing", "taxation", "centre", "ecology", "security")


def bench_settings(env: dict[str, str]) -> Settings:
    sources: dict[str, dict[str, object]] = {
        "ecology": {"url": env["BENCH_ECOLOGY_URL"]},
        "security": {"url": env["BENCH_SECURITY_URL"]},
    }
    if env.get("BENCH_CACHE", "on") == "off":
        for department in DEPARTMENTS:
            sources.setdefault(department, {})["cache_ttl"] = 0
    return load_settings(
        environment="development",
        anonymous_access=True,
        graphiql=False,
        state_dir=env["BENCH_DATA_DIR"],
        demo_data_dir=env["BENCH_DATA_DIR"],
        today=env["BENCH_TODAY"],
        sources=sources,
    )


def main() -> None:
    env = dict(os.environ)
    serve(create_app(bench_settings(env)), int(env["BENCH_PORT"]))


if __name__ == "__main__":
    main()
