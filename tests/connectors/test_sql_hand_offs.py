"""A SQLite department's reads hand aiosqlite's thread no ROLLBACK: autocommit, nothing to roll back.

Each hand-off to aiosqlite's thread is a wake-up and the interpreter's lock given and taken back; a
statement costs four (cursor, execute, fetch, close), and a ROLLBACK on the connection's return to
the pool would be a fifth for a transaction sqlite3 never opened (it opens none for a SELECT).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from connectors.base import Condition, Page
from connectors.binding import Binding
from connectors.sql import SqlConnector
from tests.connectors.subjects import sqlite_url


@pytest.fixture
def rollbacks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every ROLLBACK aiosqlite is asked for, counted."""
    counted: list[int] = []
    original = aiosqlite.Connection.rollback

    async def rollback(self: aiosqlite.Connection) -> None:
        counted.append(1)
        await original(self)

    monkeypatch.setattr(aiosqlite.Connection, "rollback", rollback)
    return counted


async def test_reads_by_key_and_pages_ask_no_rollback_and_answer_as_before(
    bindings: dict[str, Binding], demo_data_dir: Path, rollbacks: list[int], demo_rows: Any,
) -> None:
    connector = SqlConnector(bindings["market"], url=sqlite_url(demo_data_dir, "market"))
    try:
        expected = demo_rows
        found = await connector.fetch("enterprise", "uscc", [r["uscc"] for r in expected])
        assert sorted(r["uscc"] for r in found) == sorted(r["uscc"] for r in expected)
        page = await connector.select("enterprise", [Condition("region_code", "prefix", "13")],
                                      Page(order_by="uscc", limit=5))
        assert len(page) == 5 and [r["uscc"] for r in page] == sorted(r["uscc"] for r in page)
        assert rollbacks == [], "a read rolls nothing back"
    finally:
        await connector.aclose()


async def test_connections_back_in_the_pool_serve_the_next_read(
    bindings: dict[str, Binding], demo_data_dir: Path, rollbacks: list[int], demo_rows: Any,
) -> None:
    connector = SqlConnector(bindings["market"], url=sqlite_url(demo_data_dir, "market"))
    try:
        keys = [r["uscc"] for r in demo_rows]
        for _ in range(30):  # more reads than the pool holds connections: each one reused
            assert len(await connector.fetch("enterprise", "uscc", keys)) == len(keys)
        assert rollbacks == []
    finally:
        await connector.aclose()


@pytest.fixture
def demo_rows(demo_data_dir: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(demo_data_dir / "market.sqlite") as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT uscc FROM enterprises ORDER BY uscc LIMIT 3")]
