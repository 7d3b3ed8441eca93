"""Hub replicas as real processes (uvicorn) over PostgreSQL reached through ``FaultyProxy``.

What a load balancer sees when the registry database goes away, hangs, and comes back: every
answer a 503 with ``Retry-After`` and a stable code on a connection that stays open, within the
database timeout; after the fault, normal service within 2 s with no restart, and the audit chain
intact with a record for every answered request.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from joserfc.jwk import ECKey
from sqlalchemy import text

from hub.client import new_client_key
from hub.oauth import jws

from hub.store import connect
from hub.store.sealing import new_key_encryption_key
from tests.audit.hub_process import PROJECT, HubProcess, free_port, hub_cli, port_is_free, running, write_settings
from tests.conftest import DEMO_AS_OF
from tests.faults.keepalive import Answer, KeptConnection
from tests.faults.proxy import FaultyProxy
from tests.graph.conftest import DepartmentServices
from tests.oauth.conftest import ASSERTION_TYPE, proof

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
DATABASE_TIMEOUT = 1.0
QUERY = {"query": "{ enterprises(first: 2) { edges { node { uscc name } } } }"}
SESSION = "Cookie: __Host-hub-admin=a-session-the-registry-must-look-up"


@pytest.fixture
def settings_file(
    tmp_path: Path, hub_database: str, database_proxy: FaultyProxy, demo_data_dir: Path,
    services: DepartmentServices,
) -> Path:
    path = write_settings(tmp_path / "hub.toml", {
        "environment": "development",
        "anonymous_access": True,
        "database_url": database_proxy.url(hub_database),
        "database_timeout": DATABASE_TIMEOUT,
        "state_dir": tmp_path / "state",
        "key_encryption_key": new_key_encryption_key(),
        "demo_data_dir": demo_data_dir,
        "today": DEMO_AS_OF.isoformat(),
        "log_level": "WARNING",
        "sources": {
            "ecology": {"url": services.ecology.url},
            "security": {"url": services.security.url + "/graphql"},
        },
    })
    done = hub_cli(path, "registry", "migrate")
    assert done.returncode == 0, done.stdout + done.stderr
    return path


@pytest.fixture
def replicas(settings_file: Path, tmp_path: Path) -> Iterator[list[HubProcess]]:
    with running(("east", "west"), settings_file, tmp_path) as hubs:
        yield hubs


ANSWERED: list[Answer] = []  # every answer with data, in this module's process: each needs its audit record


def ask(connection: KeptConnection) -> Answer:
    answer = connection.post_json("/graphql", QUERY)
    if answer.status == 200 and answer.json().get("data"):
        ANSWERED.append(answer)
    return answer


def assert_audit_intact(settings_file: Path, database_url: str) -> None:
    """``hub audit verify`` as an auditor runs it, and one record for each answer that carried data."""
    verified = hub_cli(settings_file, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr

    async def records() -> int:
        engine = connect(database_url)
        try:
            async with engine.connect() as conn:
                return int((await conn.execute(text("SELECT count(*) FROM audit_records"))).scalar_one())
        finally:
            await engine.dispose()

    assert asyncio.run(records()) == len(ANSWERED)


def assert_503(answer: Answer, code: str) -> None:
    assert answer.status == 503, answer.body
    assert int(answer.headers["retry-after"]) >= 1
    assert code.encode() in answer.body
    assert answer.headers.get("connection", "").lower() != "close"


def serves_within(connection: KeptConnection, seconds: float) -> float:
    """Ask until an answer with data comes; the seconds it took (the test fails past ``seconds``)."""
    started = time.monotonic()
    while True:
        answer = ask(connection)
        if answer.status == 200 and answer.json().get("data"):
            return time.monotonic() - started
        assert time.monotonic() - started < seconds, answer.body
        time.sleep(0.05)


def admin_page(connection: KeptConnection) -> Answer:
    name, _, value = SESSION.partition(": ")
    return connection.request("GET", "/admin/departments", **{name: value})


def token_request(connection: KeptConnection, hub: HubProcess) -> Answer:
    """A well-formed token request from a client the registry has to look up."""
    url = f"{hub.url}/oauth/token"
    key = new_client_key()
    now = int(time.time())
    claims = {"iss": "market-unknown", "sub": "market-unknown", "aud": hub.url, "iat": now, "exp": now + 60,
              "jti": secrets.token_urlsafe(16)}
    form = urlencode({
        "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": jws.sign({"kid": key["kid"]}, claims, ECKey.import_key(key)),
    }).encode()
    return connection.request("POST", "/oauth/token", form, Content_Type="application/x-www-form-urlencoded",
                              DPoP=proof(new_client_key(), "POST", url))


def test_the_registry_down_is_503_on_every_path_with_each_connection_kept(
    replicas: list[HubProcess], database_proxy: FaultyProxy, settings_file: Path, hub_database: str,
) -> None:
    ANSWERED.clear()
    connections = [KeptConnection(hub.port) for hub in replicas]
    for connection in connections:
        assert ask(connection).status == 200
    database_proxy.refuse()
    for hub, connection in zip(replicas, connections, strict=True):
        assert_503(ask(connection), "AUDIT_UNAVAILABLE")  # the answer is ready, its record cannot be written
        assert_503(token_request(connection, hub), "REGISTRY_UNAVAILABLE")
        assert_503(admin_page(connection), "REGISTRY_UNAVAILABLE")
        assert_503(ask(connection), "AUDIT_UNAVAILABLE")  # the same connection, still open
    database_proxy.restore()
    for connection in connections:
        assert serves_within(connection, 2.0) < 2.0
    assert_audit_intact(settings_file, hub_database)


def test_a_hanging_registry_costs_each_request_the_database_timeout_not_the_hang(
    replicas: list[HubProcess], database_proxy: FaultyProxy, settings_file: Path, hub_database: str,
) -> None:
    ANSWERED.clear()
    connections = [KeptConnection(hub.port) for hub in replicas]
    for connection in connections:
        assert ask(connection).status == 200
    database_proxy.freeze()
    for hub, connection in zip(replicas, connections, strict=True):
        started = time.monotonic()
        answer = token_request(connection, hub)
        waited = time.monotonic() - started
        assert_503(answer, "REGISTRY_UNAVAILABLE")
        assert waited < DATABASE_TIMEOUT * 4, f"waited {waited:.1f} s"
        started = time.monotonic()
        assert_503(ask(connection), "AUDIT_UNAVAILABLE")
        assert time.monotonic() - started < DATABASE_TIMEOUT * 4
    database_proxy.restore()
    for connection in connections:
        assert serves_within(connection, 2.0) < 2.0
    assert_audit_intact(settings_file, hub_database)


PERMITS = {"query": "{ enterprises(first: 3) { edges { node { uscc name dischargePermits { number } } } } }"}
SOURCE_TIMEOUT = 0.5


@pytest.fixture
def ecology_process(demo_data_dir: Path, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Ecology's demo service as its own process, to be frozen (SIGSTOP) and killed."""
    port = free_port()
    with (tmp_path / "ecology.log").open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "demo", "service", "ecology", "--port", str(port),
             "--data-dir", str(demo_data_dir)], cwd=PROJECT, stdout=out, stderr=subprocess.STDOUT,
        )
    process.port = port  # type: ignore[attr-defined]
    try:
        deadline = time.monotonic() + 60
        while port_is_free(port):
            assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "ecology.log").read_text()
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGCONT)
            process.kill()
        process.wait(timeout=10)


@pytest.fixture
def hub_over_ecology(
    tmp_path: Path, demo_data_dir: Path, ecology_process: subprocess.Popen[bytes],
    services: DepartmentServices,
) -> Iterator[HubProcess]:
    ecology_url = f"http://127.0.0.1:{ecology_process.port}"  # type: ignore[attr-defined]
    settings = write_settings(tmp_path / "hub.toml", {
        "environment": "development", "anonymous_access": True, "state_dir": tmp_path / "state",
        "demo_data_dir": demo_data_dir, "today": DEMO_AS_OF.isoformat(), "log_level": "WARNING",
        "breaker_failures": 2, "breaker_reset_seconds": 1.0,
        "sources": {
            "ecology": {"url": ecology_url, "timeout": SOURCE_TIMEOUT, "cache_ttl": 0},
            "security": {"url": services.security.url + "/graphql"},
        },
    })
    with running(("solo",), settings, tmp_path) as (hub,):
        yield hub


def ecology_failed(answer: Answer) -> bool:
    errors = answer.json().get("errors", [])
    assert all(e["extensions"]["code"] == "SOURCE_UNAVAILABLE" for e in errors), errors
    assert all(edge["node"]["name"] for edge in answer.json()["data"]["enterprises"]["edges"])
    return any(e["extensions"].get("department") == "ecology" for e in errors)


def test_a_frozen_then_killed_department_costs_its_fields_at_once_and_is_used_again_when_back(
    hub_over_ecology: HubProcess, ecology_process: subprocess.Popen[bytes],
) -> None:
    connection = KeptConnection(hub_over_ecology.port)
    assert not ecology_failed(connection.post_json("/graphql", PERMITS))
    ecology_process.send_signal(signal.SIGSTOP)
    for _ in range(2):  # two timeouts open the breaker
        assert ecology_failed(connection.post_json("/graphql", PERMITS))
    for _ in range(5):
        started = time.monotonic()
        assert ecology_failed(connection.post_json("/graphql", PERMITS))
        assert time.monotonic() - started < SOURCE_TIMEOUT
    assert '"ecology": "open"' in json.dumps(connection.request("GET", "/readyz").json()["breakers"])
    ecology_process.send_signal(signal.SIGCONT)
    started = time.monotonic()
    while ecology_failed(connection.post_json("/graphql", PERMITS)):
        assert time.monotonic() - started < 2.0, "not served within 2 s of the department's return"
        time.sleep(0.1)
    ecology_process.kill()
    ecology_process.wait(timeout=10)
    for _ in range(3):
        started = time.monotonic()
        assert ecology_failed(connection.post_json("/graphql", PERMITS))
        assert time.monotonic() - started < SOURCE_TIMEOUT * 2
