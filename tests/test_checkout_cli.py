"""A newcomer's ``hub`` command after ``make run``: in a checkout with a demo it acts on the demo.

Each test lays out a checkout of its own (the packages, the policies, ``pyproject.toml``) in a
temporary folder and runs the command there in a subprocess, as a person at a shell would, with
no ``HUB_*`` variable set unless the test sets it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
DEMO_LINE = "hub: acting on the demo in"

pytestmark = pytest.mark.slow


def checkout(into: Path) -> Path:
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("hub", "schema", "connectors", "policies"):
        shutil.copytree(PROJECT / package, into / package, ignore=skip)
    shutil.copy(PROJECT / "pyproject.toml", into / "pyproject.toml")
    graphiql = PROJECT / ".demo" / "graphiql"
    if graphiql.is_dir():  # `make test` installed it: the demo's set-up then needs no npm registry
        shutil.copytree(graphiql, into / ".demo" / "graphiql")
    return into


def hub(root: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "OTEL_"))}
    environment.update(PYTHONPATH=str(root), **env)
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *argv], cwd=root, env=environment, capture_output=True, text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def demo_checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkout where the demo was set up, as `make run` does before it starts the services."""
    root = checkout(tmp_path_factory.mktemp("checkout"))
    done = hub(root, "demo", "--setup-only", "--enterprises", "30", "--as-of", "2026-11-01")
    assert done.returncode == 0, done.stderr
    assert (root / ".demo" / "hub.sqlite").is_file()
    return root


def test_audit_verify_in_a_checkout_with_a_demo_acts_on_the_demo_and_says_so(demo_checkout: Path) -> None:
    done = hub(demo_checkout, "audit", "verify")
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if line.startswith(DEMO_LINE)]
    assert said == [f"{DEMO_LINE} {demo_checkout / '.demo'} (development settings; set HUB_ENV or HUB_CONFIG "
                    "for another hub)"]
    assert "HUB_KEY_ENCRYPTION_KEY" not in done.stderr


def test_registry_commands_see_the_demo_s_clients(demo_checkout: Path) -> None:
    done = hub(demo_checkout, "registry", "list")
    assert done.returncode == 0, done.stderr
    assert DEMO_LINE in done.stderr
    assert "ecology" in done.stdout


def test_hub_env_keeps_production_settings_in_a_checkout_with_a_demo(demo_checkout: Path) -> None:
    done = hub(demo_checkout, "audit", "verify", HUB_ENV="production")
    assert done.returncode == 2
    assert "production needs HUB_KEY_ENCRYPTION_KEY" in done.stderr
    assert DEMO_LINE not in done.stderr


def test_a_settings_file_keeps_its_own_settings_in_a_checkout_with_a_demo(demo_checkout: Path, tmp_path: Path) -> None:
    config = tmp_path / "hub.toml"
    config.write_text('cache_url = "memory"\n')
    done = hub(demo_checkout, "audit", "--config", str(config), "verify")
    assert done.returncode == 2
    assert "production needs HUB_KEY_ENCRYPTION_KEY" in done.stderr
    assert DEMO_LINE not in done.stderr


def test_a_checkout_without_a_demo_reads_the_settings_as_production(tmp_path: Path) -> None:
    root = checkout(tmp_path / "bare")
    done = hub(root, "audit", "verify")
    assert done.returncode == 2
    assert "production needs HUB_KEY_ENCRYPTION_KEY" in done.stderr
    assert DEMO_LINE not in done.stderr
