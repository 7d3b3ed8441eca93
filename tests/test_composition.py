"""The hub as ``hub.app`` composes it: closing it closes every part it opened."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from hub.app import create_app
from hub.audit import store as audit_store
from tests.audit.conftest import disclosure
from tests.oauth.conftest import production_settings


def open_files(path: Path) -> list[str]:
    """This process's file descriptors open on ``path`` (its SQLite journal files included)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # closed while listed
        if target.startswith(str(path)):
            found.append(target)
    return found


async def test_closing_the_hub_closes_its_audit_store_with_no_index_batch_left_behind(
    tmp_path: Path, demo_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_store, "INDEX_IDLE", 0.0)  # the subjects' batch starts right after the records
    database = tmp_path / "hub.sqlite"
    app = create_app(production_settings(f"sqlite+aiosqlite:///{database}", demo_data_dir))
    hub = app.state.hub
    await hub.database.open()
    for n in range(3):
        await hub.audit.append(disclosure(hub.audit, n))
    await app.state.readiness.aclose()
    await hub.aclose()
    for _ in range(10):  # a batch or timer left behind would run now, on the loop this test runs on
        await asyncio.sleep(0)
    assert not [task for task in asyncio.all_tasks() if "_index_quietly" in repr(task.get_coro())]
    assert open_files(database) == []
