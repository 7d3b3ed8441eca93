"""The hub as the bench runs it, on the bench's demo data and services.

The graph path is what is measured, with the hub's policies and disclosure audit on or off; tokens
are not (no DPoP proof to check: the OAuth cost is per request and separate, bench/README.md).
The hub runs in development mode with GraphiQL off; what differs is who asks and what is recorded:

- ``BENCH_POLICIES=off``: the development demo's unrestricted caller (no view to apply, no row
  filter) and the disclosure recorder replaced by a no-op, in this process only;
- ``BENCH_POLICIES=on``: every request is ``BENCH_CALLER``, a restricted client of Market Regulation
  whose grants for "licensing" cover every field the scenarios ask (so the answers equal the
  floor's), through the hub's own view of the graph, row filters and the real audit recorder
  writing one record per request to the registry in ``BENCH_STATE_DIR``;
- ``BENCH_POLICIES=masked``: as ``on`` with ``MASKED_CALLER``, whose narrower grant leaves
  registered capital banded and a person's name and identity number masked;
- ``BENCH_POLICIES=on-noaudit``: as ``on`` with the no-op recorder, to split what the view and
  row filters cost from what the audit record costs.

Other parameters come from the environment (set by ``bench.run``): ``BENCH_PORT``, ``BENCH_DATA_DIR``,
``BENCH_STATE_DIR``, ``BENCH_TODAY``, ``BENCH_ECOLOGY_URL``, ``BENCH_SECURITY_URL`` and ``BENCH_CACHE``
(``on`` keeps every department's cache TTL from its binding, as in production; ``off`` sets ``cache_ttl = 0``).

``BENCH_WORKERS`` (``bench.serving``) server processes serve it, run as production runs replicas:
the token client is registered once before they start, they share the registry and the audit (one
SQLite file in ``BENCH_STATE_DIR``, written by each as the audit's design allows), and with more than
one, ``BENCH_REDIS_URL`` and ``BENCH_REDIS_PREFIX`` name the shared Redis of the DPoP replay cache
(a proof used at one worker is refused at every other) and, as the hub's settings derive them, of the
fair-use counters and the sources' health. One worker keeps everything in process.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request

from bench.fair_use import OPEN
from bench.serving import serve
from bench.tokens import CLIENT_FILE, register
from hub.app import build_hub, compose_app
from hub.composition import Hub
from hub.audit.recorder import DisclosureRecorder
from hub.audit.store import AuditStore
from hub.audit.subjects import Disclosed
from hub.context import Caller
from hub.settings import Settings, load_settings

DEPARTMENTS = ("market", "housing", "taxation", "centre", "ecology", "security")
PURPOSE = "licensing"
# What the three scenarios read, whole: enterprises (capital exact), their legal representatives
# (identity unmasked), the three licence registers.
FULL_SCOPES = (
    "market.enterprise:read", "market.finance:read", "market.enterprise.legal_rep:read",
    "market.person:read", "security.identity:read", "market.food_licence:read",
    "housing.construction_permit:read", "ecology.discharge_permit:read",
)
# The same without the finance and identity scopes: capital banded, names and id numbers masked.
MASKED_SCOPES = tuple(s for s in FULL_SCOPES if s not in ("market.finance:read", "security.identity:read"))


def bench_caller(client_id: str, scopes: tuple[str, ...]) -> Caller:
    return Caller(
        client_id=client_id, department="market", scopes=frozenset(scopes),
        grants={scope: frozenset({PURPOSE}) for scope in scopes}, purpose=PURPOSE, jurisdiction="",
    )


BENCH_CALLER = bench_caller("bench-licensing", FULL_SCOPES)
MASKED_CALLER = bench_caller("bench-licensing-masked", MASKED_SCOPES)


class NoDisclosures(DisclosureRecorder):
    """The recorder of the policies-off target: records nothing, opens no store."""

    def __init__(self) -> None:
        async def no_store() -> AuditStore:
            raise RuntimeError("the bench's policies-off hub has no audit store")

        super().__init__(no_store)

    async def record(
        self, request_id: str, caller: Caller, document: str, operation_name: str | None, disclosed: Disclosed,
    ) -> int:
        return 0


def bench_settings(env: dict[str, str]) -> Settings:
    sources: dict[str, dict[str, object]] = {
        "ecology": {"url": env["BENCH_ECOLOGY_URL"]},
        "security": {"url": env["BENCH_SECURITY_URL"]},
    }
    if env.get("BENCH_CACHE", "on") == "off":
        for department in DEPARTMENTS:
            sources.setdefault(department, {})["cache_ttl"] = 0
    shared: dict[str, object] = {}
    if env.get("BENCH_REDIS_URL"):  # several workers: what production's replicas share
        prefix = env["BENCH_REDIS_PREFIX"]
        shared = {"replay_cache_url": env["BENCH_REDIS_URL"], "replay_cache_prefix": f"{prefix}replay:",
                  "fair_use_prefix": f"{prefix}fair:"}
    return load_settings(
        environment="development",
        anonymous_access=True,  # the policies-off targets' caller; a request with a token is checked as one
        port=int(env.get("BENCH_PORT", "8000")),  # the issuer and resource a DPoP proof names
        access_token_minutes=60,  # one token lasts the run (a system would take a new one every few minutes)
        graphiql=False,
        state_dir=env.get("BENCH_STATE_DIR", env["BENCH_DATA_DIR"]),
        demo_data_dir=env["BENCH_DATA_DIR"],
        today=env["BENCH_TODAY"],
        sources=sources,
        # Fair use on, as in production, with limits no bench request reaches: checked, never refused.
        fair_use=OPEN,
        **shared,
    )


def apply_policies_mode(hub: Hub, mode: str) -> None:
    """Who the hub's callers are and whether their disclosures are recorded (module docstring)."""
    if mode in ("off", "on-noaudit"):
        hub.disclosures = NoDisclosures()
    if mode == "off":
        return
    callers = {"on": BENCH_CALLER, "on-noaudit": BENCH_CALLER, "masked": MASKED_CALLER}
    if mode not in callers:
        raise SystemExit(f"bench.hub_server: BENCH_POLICIES must be on, off, on-noaudit or masked, not {mode!r}")
    caller = callers[mode]

    async def authenticate(request: Request) -> Caller:
        return caller

    hub.authenticate = authenticate


def register_token_client(settings: Settings, mode: str, public_jwk_file: str) -> None:
    """The policies-on targets' caller as a real client with real grants (``bench.tokens``)."""
    scopes = MASKED_SCOPES if mode == "masked" else FULL_SCOPES
    public = json.loads(Path(public_jwk_file).read_text())
    client_id = asyncio.run(register(settings, public, scopes))
    (settings.state_dir / CLIENT_FILE).write_text(json.dumps({"client_id": client_id}))


def app_from_env() -> Starlette:
    """The app of one server process (each uvicorn worker calls it): the hub with its parts chosen
    by ``BENCH_POLICIES``, its token client already registered by ``main``."""
    env = dict(os.environ)
    settings = bench_settings(env)
    mode = env.get("BENCH_POLICIES", "on")
    hub = build_hub(settings)  # its parts chosen by the mode, then the app composed over them
    if mode != "off" and env.get("BENCH_CLIENT_JWK"):
        # Tokens: every request authenticates with a DPoP-bound token of the registered client.
        if mode == "on-noaudit":
            hub.disclosures = NoDisclosures()
    else:
        apply_policies_mode(hub, mode)
    return compose_app(hub)


def main() -> None:
    env = dict(os.environ)
    mode = env.get("BENCH_POLICIES", "on")
    if mode != "off" and env.get("BENCH_CLIENT_JWK"):
        # Once, before any worker starts: every worker reads the same client from the shared registry.
        register_token_client(bench_settings(env), mode, env["BENCH_CLIENT_JWK"])
    serve("bench.hub_server:app_from_env", int(env["BENCH_PORT"]))


if __name__ == "__main__":
    main()
