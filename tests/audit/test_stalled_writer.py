"""A replica that freezes in the middle of an append (SIGSTOP: a GC pause, a VM stall, a partition)
holding the chain's lock stalls the other replicas for at most the stall bound, not for as long as it
is frozen; its own group is rolled back and fails closed. Real processes on real PostgreSQL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from hub.audit import AuditStore, verify
from hub.store import migrate
from tests.audit.conftest import make_store

PROJECT = Path(__file__).resolve().parents[2]
RUN_SECONDS = 14.0
FROZEN_FOR = 6.0

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def start(url: str, key_encryption_key: str, name: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "tests.audit.steady_appender", url, key_encryption_key, name, str(RUN_SECONDS)]
    return subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


HOLDING = text(
    "SELECT count(*) FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid"
    " JOIN pg_class c ON c.oid = l.relation"
    " WHERE a.application_name = :name AND a.state = 'idle in transaction' AND c.relname = 'audit_head'"
)


async def freeze_while_holding_the_lock(store: AuditStore, process: subprocess.Popen[str], name: str) -> float:
    """Stop the process at a moment its session holds the chain's lock, idle in its transaction."""
    async with store.engine.connect() as conn:
        for _ in range(2000):
            os.kill(process.pid, signal.SIGSTOP)
            time.sleep(0.02)  # what the process had sent reaches the server
            if (await conn.execute(HOLDING, {"name": name})).scalar_one():
                return time.time()
            os.kill(process.pid, signal.SIGCONT)
            time.sleep(0.003)
            await conn.rollback()
    raise AssertionError("never caught the writer holding the lock")


@pytest.fixture
async def store(audit_postgres_url: str, key_encryption_key: str) -> AsyncIterator[AuditStore]:
    audit = make_store(audit_postgres_url, key_encryption_key)
    await migrate(audit.engine)
    try:
        yield audit
    finally:
        await audit.engine.dispose()


async def test_a_frozen_replica_holding_the_lock_does_not_stall_the_other(
    store: AuditStore, audit_postgres_url: str, key_encryption_key: str
) -> None:
    url = audit_postgres_url
    frozen, steady = start(url, key_encryption_key, "frozen"), start(url, key_encryption_key, "steady")
    try:
        time.sleep(3.0)  # both interpreters up and appending
        stopped_at = await freeze_while_holding_the_lock(store, frozen, "frozen")
        time.sleep(FROZEN_FOR)
        os.kill(frozen.pid, signal.SIGCONT)
        runs = {}
        for name, process in (("frozen", frozen), ("steady", steady)):
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
            runs[name] = json.loads(out)
    finally:
        for process in (frozen, steady):
            if process.poll() is None:
                os.kill(process.pid, signal.SIGCONT)
                process.kill()
    written_meanwhile = [o for o in runs["steady"] if o[1] is not None and stopped_at < o[0] < stopped_at + FROZEN_FOR]
    assert len(written_meanwhile) > 20, "the other replica stood still while this one was frozen"
    assert any(o[1] is None for o in runs["frozen"]), "the frozen replica's group should have been rolled back"
    report = await verify(store)
    assert report.intact, report.findings[:5]
    async with store.engine.connect() as conn:
        recorded = dict((await conn.execute(text("SELECT request_id, seq FROM audit_records"))).all())
    for outcome in runs["frozen"] + runs["steady"]:
        time_, seq, request_id = outcome
        if seq is None:
            assert request_id not in recorded, "a request told its record failed has one"
        else:
            assert recorded.get(request_id) == seq, "a request told its record is durable has none"
