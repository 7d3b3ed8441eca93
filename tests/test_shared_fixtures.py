"""A session fixture is one instance for the whole run.

pytest registers a fixture wherever it finds the function: imported into a test module or a folder's
conftest, a session fixture is registered again there, and each registration is an instance of its
own (for the departments' ``services``, a pair of service threads per importing module, each started
and stopped). The run's shared fixtures live in tests/conftest.py and are used by name. This checks
the tests collected with it: the whole suite in a full run.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest


def _source(function: Any) -> str:
    """Where a fixture function is written (a module pytest imports twice makes two function objects)."""
    code = inspect.unwrap(function).__code__
    return f"{code.co_filename}:{code.co_firstlineno}"


def session_fixture_registrations(items: list[pytest.Item]) -> dict[str, set[object]]:
    """Each session fixture's function (by its source) and the registrations the items use."""
    used: dict[str, set[object]] = {}
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        for definitions in info.name2fixturedefs.values() if info is not None else ():
            definition = definitions[-1]  # the one this item gets
            if definition.scope == "session":
                used.setdefault(f"{definition.argname} ({_source(definition.func)})", set()).add(definition)
    return used


def test_every_session_fixture_is_one_instance_for_every_test_that_uses_it(request: pytest.FixtureRequest) -> None:
    registrations = session_fixture_registrations(request.session.items)
    assert {name: len(found) for name, found in registrations.items() if len(found) > 1} == {}


def test_the_shared_conftest_is_one_module_whether_pytest_or_a_test_imports_it(request: pytest.FixtureRequest) -> None:
    # Imported twice (as pytest's ``conftest`` and as ``tests.conftest``), its run id, and so every
    # database and Redis prefix named after it, would have two values in one run.
    import tests.conftest as shared

    loaded = [p for p in request.config.pluginmanager.get_plugins() if getattr(p, "__file__", None) == shared.__file__]
    assert loaded == [shared]
