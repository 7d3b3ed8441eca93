"""Fixtures for the policy tests: a writable copy of the demo policies (the real graph and the
demo policies as loaded, ``graph`` and ``policies``, are the whole run's: tests/conftest.py)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import POLICIES_DIR


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    """A copy of the demo policies a test may edit."""
    target = tmp_path / "policies"
    shutil.copytree(POLICIES_DIR, target, ignore=shutil.ignore_patterns("*.md"))
    return target


def line_number(path: Path, line: str) -> int:
    """1-based number of the one line that starts with ``line`` (independent of the loader's locator)."""
    numbers = [
        n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text.startswith(line)
    ]
    assert len(numbers) == 1, f"{line!r} starts {len(numbers)} lines of {path.name}"
    return numbers[0]


Edit = Callable[[str, str, str], Path]


@pytest.fixture
def edit(policy_dir: Path) -> Edit:
    """Replace one exact text in one policy file of the copy; returns the file's path."""

    def replace(file: str, old: str, new: str) -> Path:
        path = policy_dir / file
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{old!r} must occur once in {file}"
        path.write_text(text.replace(old, new), encoding="utf-8")
        return path

    return replace
