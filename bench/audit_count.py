"""After a run: the disclosure audit of each hub grew by exactly one record per request it answered.

Read from each hub's registry file (``<state dir>/hub.sqlite``) once its process has stopped, so a
figure for a policies-on hub cannot come from an audit that was silently off, and a policies-off
hub is shown to have recorded nothing.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from bench.measure import Target


def audit_rows(state_dir: Path) -> tuple[int, int]:
    """(records, subject index rows) in the registry's audit tables; (0, 0) when there are none."""
    path = state_dir / "hub.sqlite"
    if not path.is_file():
        return 0, 0
    with closing(sqlite3.connect(path)) as db:
        try:
            records = db.execute("SELECT count(*) FROM audit_records").fetchone()[0]
            subjects = db.execute("SELECT count(*) FROM audit_subjects").fetchone()[0]
        except sqlite3.OperationalError:  # no audit tables: nothing was ever recorded
            return 0, 0
    return int(records), int(subjects)


def check_audits(targets: list[Target], sent: dict[str, int]) -> tuple[list[dict[str, Any]], list[str]]:
    """Per hub: requests sent, records expected and found; a problem for every mismatch."""
    rows, problems = [], []
    for target in targets:
        if not target.is_hub or target.state_dir is None:
            continue
        records, subjects = audit_rows(target.state_dir)
        expected = 0 if target.policies in ("off", "on-noaudit") else sent.get(target.key, 0)
        rows.append({"target": target.key, "policies": target.policies, "requests": sent.get(target.key, 0),
                     "expected_records": expected, "audit_records": records, "audit_subject_rows": subjects})
        if records != expected:
            problems.append(f"{target.key}: {records} audit records for {sent.get(target.key, 0)} requests "
                            f"(policies {target.policies}: {expected} expected)")
    return rows, problems
