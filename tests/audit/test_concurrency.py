"""Two hub processes appending to one log at once (separate OS processes, as two replicas are):
every append gets its own seq, none is lost, and the chain stays one intact chain.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import text

from hub.audit import AuditStore, verify

PROJECT = Path(__file__).resolve().parents[2]
PER_PROCESS = 60


def start(url: str, key_encryption_key: str, label: str, meet: Path, peers: int) -> subprocess.Popen[str]:
    arguments = [url, key_encryption_key, str(PER_PROCESS), label, str(meet), str(peers)]
    command = [sys.executable, "-m", "tests.audit.appender", *arguments]
    return subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


async def test_two_processes_appending_at_once_leave_one_complete_intact_chain(
    store: AuditStore, audit_url: str, key_encryption_key: str, tmp_path: Path
) -> None:
    # Each appender waits, after its first record, until the other has begun: they overlap on any machine.
    # The meeting folder holds the appenders' files only (the SQLite log and its WAL are in tmp_path).
    meeting = tmp_path / "meet"
    meeting.mkdir()
    processes = [start(audit_url, key_encryption_key, label, meeting, 2) for label in ("market", "taxation")]
    runs: list[dict[str, Any]] = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        runs.append(json.loads(out))
    assert max(r["began"] for r in runs) < min(r["finished"] for r in runs), "the appends did not overlap"
    assert sorted(runs[0]["seqs"] + runs[1]["seqs"]) == list(range(1, 2 * PER_PROCESS + 1))
    report = await verify(store)
    assert report.intact, report.findings
    assert report.records == 2 * PER_PROCESS
    async with store.engine.connect() as conn:
        clients = (await conn.execute(text("SELECT DISTINCT client_id FROM audit_records"))).scalars().all()
    assert sorted(clients) == ["market-proc", "taxation-proc"]



async def test_verifying_while_another_process_appends_reports_nothing_false(
    store: AuditStore, audit_url: str, key_encryption_key: str, tmp_path: Path
) -> None:
    process = start(audit_url, key_encryption_key, "market", tmp_path, 1)
    reports = []
    while process.poll() is None:
        reports.append(await verify(store))
    assert process.returncode == 0, process.stderr.read() if process.stderr else ""
    assert any(0 < r.records < PER_PROCESS for r in reports), "no check ran while records were landing"
    assert all(r.intact for r in reports), [r.findings for r in reports if not r.intact]
    assert (await verify(store)).records == PER_PROCESS
