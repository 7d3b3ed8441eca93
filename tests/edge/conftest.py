"""The edge's tests run the hub as tests/graph does: the same demo departments and fixtures."""

from __future__ import annotations

from tests.graph.conftest import demo_db, hub, services  # noqa: F401  (fixtures, used by name)
