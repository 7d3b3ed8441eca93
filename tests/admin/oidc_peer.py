"""A real OpenID Connect provider for the console's sign-in tests: node oidc-provider (tests/peers).

``running_provider`` starts it on a free local port with one client registered for the hub's callback
and its signing key made here, so tests can also sign tokens the provider would never issue. Without
Node.js or the package the test skips naming what is missing; under ``CI=true`` it fails instead.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from joserfc.jwk import RSAKey

PEERS = Path(__file__).resolve().parent.parent / "peers"
CLIENT_ID, CLIENT_SECRET = "hub-console", "a-client-secret-for-the-tests-only"
START_SECONDS = 20.0


@dataclass
class Provider:
    issuer: str
    signing_key: RSAKey  # the provider's own key


def node() -> str:
    found, missing = shutil.which("node"), None
    if found is None:
        missing = "Node.js (`node`) is not installed"
    elif not (PEERS / "node_modules" / "oidc-provider").is_dir():
        missing = "Node.js oidc-provider is not installed (npm ci --prefix tests/peers)"
    if missing is None:
        return str(found)
    if os.environ.get("CI"):
        pytest.fail(f"{missing}; CI must provide it")
    pytest.skip(missing)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_provider(redirect_uri: str, workdir: Path) -> Iterator[Provider]:
    executable, port = node(), free_port()
    key = RSAKey.generate_key(2048, parameters={"kid": "provider-1", "alg": "RS256", "use": "sig"})
    config, log = workdir / "provider.json", workdir / "provider.log"
    config.write_text(json.dumps({
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": [redirect_uri],
        "jwks": {"keys": [key.as_dict(private=True)]},
    }))
    with log.open("w") as output:
        process = subprocess.Popen(
            [executable, str(PEERS / "oidc_provider.mjs"), str(port), str(config)],
            stdout=output, stderr=subprocess.STDOUT, cwd=PEERS,
        )
    try:
        yield Provider(_await_listening(process, log), key)
    finally:
        process.terminate()
        process.wait(timeout=10)


def _await_listening(process: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        for line in log.read_text().splitlines():
            if line.startswith("listening "):
                return line.split()[1]
        time.sleep(0.1)
    raise RuntimeError(f"oidc-provider did not start: {log.read_text()}")
