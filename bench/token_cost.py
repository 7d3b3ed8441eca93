"""What checking a token costs per request, and which part is what: ``python -m bench.token_cost``.

One hub (development settings, a registry of its own on SQLite in a temporary directory), the
bench's client registered and granted as for the policies-on targets (``bench.tokens``), one access
token, then ``--requests`` requests each with a fresh DPoP proof, given to the hub's own
authenticator (``hub.oauth.resource.ResourceServer``, what ``/graphql`` calls first) and timed:

- ``whole check``: token signature and claims, the proof, the registry's change counter and what it
  kept (``hub/oauth/live.py``), as every request pays it;
- ``registry read afresh``: the same with the counter unreadable, so revocation, client and grants
  are read from the registry on every request (what each request paid before the counter);
- ``proof signing``: the client's side, per request (the load generator pays it in ``make bench``).

No GraphQL runs; the figures are the median and the 95th percentile in microseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from starlette.requests import Request

from bench.hub_server import FULL_SCOPES
from bench.tokens import PURPOSE, register
from hub.app import create_app
from hub.client import HubAuth, new_client_key
from hub.settings import load_settings

PORT = 8000
logging.getLogger("hub.oauth").setLevel(logging.ERROR)  # the counter is made unreadable on purpose below


def request_with(token: str, proof: str) -> Request:
    headers = [(b"authorization", f"DPoP {token}".encode()), (b"dpop", proof.encode()),
               (b"x-hub-purpose", PURPOSE.encode()), (b"host", f"127.0.0.1:{PORT}".encode())]
    return Request({"type": "http", "method": "POST", "path": "/graphql", "headers": headers,
                    "query_string": b"", "scheme": "http", "server": ("127.0.0.1", PORT)})


async def timed(requests: int, one: Callable[[], Awaitable[Any]]) -> list[float]:
    for _ in range(20):
        await one()
    spent = []
    for _ in range(requests):
        started = time.perf_counter()
        await one()
        spent.append((time.perf_counter() - started) * 1e6)
    return spent


def summary(name: str, spent: list[float]) -> dict[str, Any]:
    ordered = sorted(spent)
    return {"measure": name, "p50_us": statistics.median(ordered), "p95_us": ordered[int(len(ordered) * 0.95) - 1]}


async def measure(requests: int, state_dir: Path) -> list[dict[str, Any]]:
    settings = load_settings(environment="development", state_dir=state_dir, port=PORT, graphiql=False)
    key = new_client_key()
    client_id = await register(settings, {k: v for k, v in key.items() if k != "d"}, FULL_SCOPES)
    app = create_app(settings)
    hub = app.state.hub
    url = f"http://127.0.0.1:{PORT}"
    auth = HubAuth(f"{url}/oauth/token", client_id, key, f"{url}/graphql", " ".join(FULL_SCOPES))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=url) as http:
            answer = await http.post("/graphql", json={"query": "{ __typename }"}, auth=auth,
                                     headers={"X-Hub-Purpose": PURPOSE})
            assert answer.status_code == 200, answer.text
        token = auth._token  # the one HubAuth just obtained
        assert token is not None

        async def check() -> Any:
            return await hub.authenticate(request_with(token, auth.proof("POST", f"{url}/graphql", token)))

        async def sign() -> Any:
            return auth.proof("POST", f"{url}/graphql", token)

        results = [summary("whole check (counter read once)", await timed(requests, check))]
        engine = hub.oauth.parts.engine
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM registry_changes"))
        results.append(summary("whole check, registry read afresh", await timed(requests, check)))
        results.append(summary("proof signing (client side)", await timed(requests, sign)))
        return results
    finally:
        await hub.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.token_cost", description=__doc__)
    parser.add_argument("--requests", type=int, default=500, help="timed checks per measure (default 500)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hub-token-cost-") as tmp:
        results = asyncio.run(measure(args.requests, Path(tmp)))
    for row in results:
        print(f"{row['measure']:38} p50 {row['p50_us']:8.0f} us   p95 {row['p95_us']:8.0f} us")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
