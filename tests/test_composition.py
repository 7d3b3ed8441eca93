"""The hub as ``hub.app`` composes it: every part is handed what it uses at construction (nothing
else takes the whole ``Hub`` or finds it in the app's state), and closing it closes every part it opened."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from hub.app import create_app
from hub.audit import store as audit_store
from tests.audit.conftest import disclosure
from tests.oauth.conftest import production_settings
from tests.test_import_cycles import ROOT, imports, modules

COMPOSER = "hub.app"  # builds the Hub and hands each part what it uses


def takers_of_the_whole_hub(root: Path) -> list[str]:
    """The hub's modules (its type-checking imports included) that import the composition or find
    it in the app's state, other than the app that composes it."""
    found = {name for name, targets in imports(root).items() if "hub.composition" in targets}
    found |= {name for name, path in modules(root).items() if "state.hub" in path.read_text(encoding="utf-8")}
    return sorted(found - {COMPOSER})


def test_no_part_of_the_hub_but_the_app_takes_the_hub_whole() -> None:
    assert takers_of_the_whole_hub(ROOT) == []


def test_the_check_names_a_part_that_takes_the_hub_whole(tmp_path: Path) -> None:
    for package in ("hub", "schema", "connectors"):
        (tmp_path / package).mkdir()
    (tmp_path / "hub" / "composition.py").write_text("class Hub: ...\n")
    (tmp_path / "hub" / "app.py").write_text("from hub.composition import Hub\n")
    (tmp_path / "hub" / "ops.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from hub.composition import Hub\n")
    (tmp_path / "hub" / "readiness.py").write_text("def parts(request):\n    return request.app.state.hub\n")
    assert takers_of_the_whole_hub(tmp_path) == ["hub.ops", "hub.readiness"]


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


async def test_a_part_that_fails_to_close_keeps_none_of_the_others_open(
    tmp_path: Path, demo_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "hub.sqlite"
    app = create_app(production_settings(f"sqlite+aiosqlite:///{database}", demo_data_dir))
    hub = app.state.hub
    await hub.database.open()
    await hub.audit.append(disclosure(hub.audit, 0))

    async def fails() -> None:
        raise RuntimeError("the shared counters did not answer")

    monkeypatch.setattr(hub.fair_use.counters, "aclose", fails)
    await app.state.readiness.aclose()
    with pytest.raises(RuntimeError, match="shared counters"):
        await hub.aclose()
    assert open_files(database) == []
