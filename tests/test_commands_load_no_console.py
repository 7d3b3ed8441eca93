"""The ``hub`` commands that change grants, the registry and accounts use the services
(``hub.grants``, ``hub.registry``, ``hub.accounts``), never a module of the console's pages or
anything that takes a web request: importing them loads neither the console's app nor starlette."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

COMMANDS = ("hub.commands.admin", "hub.commands.grants", "hub.commands.registry", "hub.commands.gateways")


@pytest.mark.slow
def test_the_administrative_commands_load_no_web_framework_and_no_console_page() -> None:
    program = (
        "import importlib, json, sys\n"
        f"for name in {COMMANDS!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('starlette', 'hub.admin')))))\n"
    )
    loaded = json.loads(subprocess.run(
        [sys.executable, "-c", program], check=True, capture_output=True, text=True,
    ).stdout)
    assert not [m for m in loaded if m.startswith("starlette")], loaded
    assert set(loaded) <= {"hub.admin", "hub.admin.sessions"}, loaded
