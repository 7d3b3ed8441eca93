"""Two hub processes appending to one log at once (separate OS processes, as two replicas are):
every append gets its own seq, none is lost, and the chain stays one intact chain.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import text

from hub.audit import AuditStore, verify

PROJECT = Path(__file__).resolve().parents[2]
PER_PROCESS = 60


def start(url: str, key_encryption_key: str, label: str, at: float) -> subprocess.Popen[str]:
    arguments = [url, key_encryption_key, str(PER_PROCESS), label, str(at)]
    command = [sys.executable, "-m", "tests.audit.appender", *arguments]
    return subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


async def test_two_processes_appending_at_once_leave_one_complete_intact_chain(
    store: AuditStore, audit_url: str, key_encryption_key: str
) -> None:
    at = time.time() + 2.0  # both interpreters are up and connected by then
    processes = [start(audit_url, key_encryption_key, label, at) for label in ("market", "taxation")]
    seqs: list[list[int]] = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        seqs.append(json.loads(out))
    assert sorted(seqs[0] + seqs[1]) == list(range(1, 2 * PER_PROCESS + 1))
    assert _interleaved(seqs[0]), "the two processes did not actually append at the same time"
    report = await verify(store)
    assert report.intact, report.findings
    assert report.records == 2 * PER_PROCESS
    async with store.engine.connect() as conn:
        clients = (await conn.execute(text("SELECT DISTINCT client_id FROM audit_records"))).scalars().all()
    assert sorted(clients) == ["market-proc", "taxation-proc"]


def _interleaved(seqs: list[int]) -> bool:
    return seqs != list(range(seqs[0], seqs[0] + len(seqs)))
