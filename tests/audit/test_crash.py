"""A hub process killed with SIGKILL in the middle of load (real processes, real PostgreSQL) leaves a
log that verifies, and every request that received data before the kill has its record: a record is
durable before its answer leaves, and a group cut off mid-write is rolled back whole.
"""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from pathlib import Path

import httpx
import pytest

from tests.audit.hub_process import running
from tests.audit.test_two_hubs import audit_rows, enterprises, migrated, settings_file  # noqa: F401
from tests.audit.test_two_hubs import hub_cli

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
CLIENTS = 16
ANSWERED_FIRST = 40  # answers received before the kill
KILL_WITHIN = 60.0  # seconds, however few have come back by then
DOCUMENT = "query Crash($u: String!) { enterprise(uscc: $u) { uscc name legalRepresentative { name } } }"


@pytest.fixture
def database_url(audit_postgres_url: str) -> str:
    return audit_postgres_url


async def load(url: str, enterprises: list[str], answered: list[str], stop: asyncio.Event) -> None:  # noqa: F811
    """One client asking again and again; notes each request that came back with data."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        n = 0
        while not stop.is_set():
            request_id = f"crash-{uuid.uuid4().hex[:12]}"
            try:
                answer = await client.post("/graphql", headers={"X-Request-Id": request_id},
                                           json={"query": DOCUMENT, "variables": {"u": enterprises[n % 9]}})
            except httpx.TransportError:
                return  # the process is gone
            body = answer.json() if answer.status_code == 200 else {}
            if (body.get("data") or {}).get("enterprise"):
                answered.append(request_id)
            n += 1


async def test_a_replica_killed_mid_load_leaves_an_intact_log_holding_every_answered_request(
    migrated: Path, tmp_path: Path, database_url: str, enterprises: list[str]  # noqa: F811
) -> None:
    answered: list[str] = []
    stop = asyncio.Event()
    with running(("doomed",), migrated, tmp_path) as (hub,):
        clients = [asyncio.create_task(load(hub.url, enterprises, answered, stop)) for _ in range(CLIENTS)]
        for _ in range(int(KILL_WITHIN / 0.05)):  # mid-load: once enough answers have come back
            if len(answered) >= ANSWERED_FIRST:
                break
            await asyncio.sleep(0.05)
        os.kill(hub.process.pid, signal.SIGKILL)
        stop.set()
        await asyncio.gather(*clients)
        hub.process.wait(timeout=15)
    assert len(answered) > 20, "too little load reached the replica before it was killed"
    recorded = {row.request_id for row in await audit_rows(database_url, "SELECT request_id FROM audit_records")}
    missing = [request_id for request_id in answered if request_id not in recorded]
    assert not missing, f"{len(missing)} answered requests have no record, e.g. {missing[:3]}"
    verified = hub_cli(migrated, "audit", "verify")
    assert verified.returncode == 0 and verified.stdout.splitlines()[-1] == "intact", verified.stdout + verified.stderr
