"""Real tokens for the policies-on targets: a registered client, its grants, a fresh DPoP proof per request.

A department system calls the hub with an RFC 9068 access token bound to its DPoP key and a new
proof for every request; so do the bench's policies-on targets, so their figures include OAuth
(the token's signature and claims, the proof's signature and replay check, the registry's
revocation, client and grant checks). The client is registered the usual way in the target's own
registry before the hub starts (``register``, run by ``bench.hub_server``): a department, a client
with the bench's public key, and the operator's grants of exactly the scopes the caller had before
(``FULL_SCOPES`` or ``MASKED_SCOPES``) for ``licensing``. The bench then obtains one token per
target (``hub.client.HubAuth``, as a Python system would) and signs each request's proof itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from hub.client import HubAuth, new_client_key
from hub.grants import GrantService, load_grant_catalogue
from hub.grants.model import Actor
from hub.oauth.clock import Clock
from hub.settings import Settings
from hub.store import Registry, connect, migrate

PURPOSE = "licensing"
CLIENT_FILE = "bench-client.json"  # in the target's state directory: the client id the hub registered
OPERATOR = Actor("bench", "operator")


async def register(settings: Settings, public_jwk: dict[str, Any], scopes: tuple[str, ...]) -> str:
    """The bench's client in this hub's registry, granted ``scopes`` for ``licensing``; its client id."""
    engine = connect(settings.registry_url)
    try:
        await migrate(engine)
        registry = Registry(engine)
        owners = sorted({scope.split(".", 1)[0] for scope in scopes} | {"market"})
        for department in owners:
            await registry.add_department(department, department.title())
        client = await registry.register_client("market", "bench licensing system", public_jwk)
        service = GrantService(engine, load_grant_catalogue(settings.policies_dir), Clock())
        for owner in owners:
            owned = [s for s in scopes if s.startswith(f"{owner}.")]
            if owned:
                await service.grant_now(OPERATOR, client.client_id, owned, [PURPOSE], "bench", 30)
        return client.client_id
    finally:
        await engine.dispose()


def new_key_files(state_dir: Path) -> Path:
    """A client key pair for one target: the private half kept by the bench, the public half for the hub."""
    key = new_client_key()
    (state_dir / "bench-client.private.json").write_text(json.dumps(key))
    public = state_dir / "bench-client.pub.json"
    public.write_text(json.dumps({k: v for k, v in key.items() if k != "d"}))
    return public


class TokenCaller:
    """The bench as a department system of one target: its token, and a request with a fresh proof."""

    def __init__(self, url: str, state_dir: Path, scopes: tuple[str, ...]) -> None:
        client_id = json.loads((state_dir / CLIENT_FILE).read_text())["client_id"]
        key = json.loads((state_dir / "bench-client.private.json").read_text())
        self.graphql_url = f"{url}/graphql"
        self.auth = HubAuth(f"{url}/oauth/token", client_id, key, self.graphql_url, " ".join(scopes))
        self.headers = {"X-Hub-Purpose": PURPOSE}

    def request(self, port: int, body: object) -> Callable[[], bytes]:
        """A POST of ``body`` to ``/graphql`` whose DPoP proof is signed anew each time it is sent."""
        payload = orjson.dumps(body)
        head = (f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: application/json\r\n"
                f"Content-Type: application/json\r\nX-Hub-Purpose: {PURPOSE}\r\n"
                f"Content-Length: {len(payload)}\r\n")
        auth = self.auth

        def signed() -> bytes:
            token = auth._token  # obtained by the checks (HubAuth), valid for the whole run
            proof = auth.proof("POST", self.graphql_url, token)
            return f"{head}Authorization: DPoP {token}\r\nDPoP: {proof}\r\n\r\n".encode() + payload

        return signed
