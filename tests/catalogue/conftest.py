"""The catalogue's tests run on the real graph, the real bindings and copies of the demo policies."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from connectors.binding import Binding, load_bindings
from hub.policy.loader import DEFAULT_BINDINGS_DIR
from tests.policy.conftest import edit, policy_dir  # noqa: F401 (fixtures shared)


@pytest.fixture(scope="session")
def bindings() -> Mapping[str, Binding]:
    return load_bindings(DEFAULT_BINDINGS_DIR)
