"""Limits come from the settings file's ``[limits]`` table, checked when the hub starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.graphql.limits import Limits
from hub.settings import SettingsError, load_settings


def _settings_file(tmp_path: Path, limits: str) -> Path:
    path = tmp_path / "hub.toml"
    path.write_text(f'environment = "development"\n\n[limits]\n{limits}\n', encoding="utf-8")
    return path


def test_limits_not_set_are_the_documented_defaults() -> None:
    limits = load_settings(environment="development").limits
    assert limits == Limits()
    assert (limits.max_depth, limits.max_aliases, limits.max_tokens, limits.max_root_fields) == (15, 300, 20_000, 200)
    assert (limits.max_cost, limits.default_list_size, limits.max_body_bytes) == (500_000, 20, 1_000_000)
    assert (limits.execution_timeout, limits.max_batch, limits.require_persisted_operations) == (15.0, 10, False)


def test_the_limits_table_of_the_settings_file_sets_them(tmp_path: Path) -> None:
    (tmp_path / "ops").mkdir()
    path = _settings_file(tmp_path, f"""
max_depth = 8
max_cost = 20000
execution_timeout = 2.5
max_batch = 1
persisted_operations_dir = "{tmp_path / 'ops'}"
require_persisted_operations = true
""")
    limits = load_settings(path).limits
    assert (limits.max_depth, limits.max_cost, limits.execution_timeout, limits.max_batch) == (8, 20000, 2.5, 1)
    assert limits.persisted_operations_dir == tmp_path / "ops" and limits.require_persisted_operations


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ("max_dept = 8", "unknown limits: max_dept"),
        ("max_depth = 0", "limits.max_depth must be positive"),
        ("execution_timeout = -1", "limits.execution_timeout must be positive"),
        ('max_aliases = "many"', "limits.max_aliases must be a number"),
        ("max_representations = 0", "limits.max_representations must be positive"),
        ('max_representations = "all"', "limits.max_representations must be a number"),
        ('require_persisted_operations = "perhaps"', "limits.require_persisted_operations must be true or false"),
        ("require_persisted_operations = true", "persisted_operations_dir"),
    ],
)
def test_a_wrong_limit_stops_the_hub_naming_it(tmp_path: Path, table: str, words: str) -> None:
    with pytest.raises(SettingsError, match=words):
        load_settings(_settings_file(tmp_path, table))
