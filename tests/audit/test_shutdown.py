"""A hub that stops cleanly leaves its audit whole: every record handed in is written, the SQLite
subject index is complete through the last of them, and the audit's writer thread is stopped, by the
hub's own shutdown (``Hub.aclose``), while the event loop and its executor still run.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from pathlib import Path

import httpx
import pytest

from hub.app import create_app
from hub.audit import store as audit_store
from hub.settings import load_settings

QUERY = "{ enterprises(first: 3) { edges { node { uscc name } } } }"


def writers() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name == "audit-writer"}


async def test_a_hub_stopping_writes_and_indexes_every_record_before_it_closes(
    tmp_path: Path, demo_data_dir: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_store, "INDEX_IDLE", 3600.0)  # nothing but the shutdown indexes these records
    path = tmp_path / "hub.sqlite"
    settings = load_settings(environment="development", database_url=f"sqlite+aiosqlite:///{path}",
                             demo_data_dir=demo_data_dir, migrate_at_start=None, anonymous_access=True)
    app = create_app(settings)
    writers_before = writers()
    caplog.set_level(logging.WARNING, logger="hub.audit")
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as http:
            answers = await asyncio.gather(*(http.post("/graphql", json={"query": QUERY}) for _ in range(5)))
        assert [len(a.json()["data"]["enterprises"]["edges"]) for a in answers] == [3] * 5
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM audit_records").fetchone()[0] == 5
        assert db.execute("SELECT seq FROM audit_index").fetchone()[0] == 5
        assert db.execute("SELECT count(*) FROM audit_subjects").fetchone()[0] == 15  # 3 enterprises x 5
    assert writers() == writers_before  # this hub's writer thread stopped
    assert not caplog.records, [r.getMessage() for r in caplog.records]
