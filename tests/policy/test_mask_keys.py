"""A mask's key comes from the environment; a key written in a policy file never reaches production.

policies/centre.toml says ``key = "env:HUB_APPLICANT_PSEUDONYM_KEY"`` with a public ``development_key``
for ``make run`` and the tests. Loading names the file and line of every key it cannot use.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from hub.app import create_app
from hub.policy import PolicyError, load_policies
from hub.policy.masks import pseudonym
from hub.policy.masks_config import file_masks
from hub.policy.source import read_policy_file
from schema import build_schema
from tests.oauth.conftest import production_settings

POLICIES = Path(__file__).resolve().parents[2] / "policies"
VARIABLE = "HUB_APPLICANT_PSEUDONYM_KEY"
DEMO_KEY = "demo-only-applicant-pseudonym-key"
MASK = '[masks.applicant_pseudonym]\nkind = "pseudonym"\n'


def pseudonym_of(value: str, table: str, environ: dict[str, str], tmp_path: Path) -> str:
    path = tmp_path / "centre.toml"
    path.write_text(MASK + table, encoding="utf-8")
    return str(file_masks(read_policy_file(path), environ)["applicant_pseudonym"].apply(value))


def policies_with(tmp_path: Path, key_lines: str) -> Path:
    """A copy of the hub's policies whose applicant pseudonym key is written as ``key_lines``."""
    directory = tmp_path / "policies"
    shutil.copytree(POLICIES, directory)
    centre = directory / "centre.toml"
    text = centre.read_text(encoding="utf-8")
    text = text.replace(f'key = "env:{VARIABLE}"\ndevelopment_key = "{DEMO_KEY}"\n', key_lines)
    assert key_lines in text
    centre.write_text(text, encoding="utf-8")
    return directory


def refusal(excinfo: pytest.ExceptionInfo[PolicyError], directory: Path) -> str:
    message = str(excinfo.value)
    key_line = next(i for i, line in enumerate((directory / "centre.toml").read_text().splitlines(), 1)
                    if line.startswith("key ="))
    assert message.startswith(f"{directory / 'centre.toml'}:{key_line}: mask applicant_pseudonym:")
    return message


def test_the_key_is_the_environment_variable_and_the_development_key_only_while_it_is_unset(
    tmp_path: Path,
) -> None:
    table = f'key = "env:{VARIABLE}"\ndevelopment_key = "{DEMO_KEY}"\n'
    own = pseudonym_of("91130202MA0000000X", table, {VARIABLE: "a-key-of-this-deployment"}, tmp_path)
    development = pseudonym_of("91130202MA0000000X", table, {}, tmp_path)
    assert own == pseudonym_of("91130202MA0000000X", f'key = "{"a-key-of-this-deployment"}"\n', {}, tmp_path)
    assert development == pseudonym_of("91130202MA0000000X", f'key = "{DEMO_KEY}"\n', {}, tmp_path)
    assert own != development


@pytest.mark.parametrize(("key_lines", "environ", "problem"), [
    (f'key = "env:{VARIABLE}"\n', {}, f"the environment variable {VARIABLE} is not set"),
    (f'key = "env:{VARIABLE}"\n', {VARIABLE: "too-short"}, f"{VARIABLE} is shorter than 16 characters"),
    (f'key = "env:{VARIABLE}"\ndevelopment_key = "{DEMO_KEY}"\n', {VARIABLE: "short"}, "shorter than 16"),
    ('key = "env:lower-case"\n', {}, "must name an environment variable"),
    ('key = "env:"\n', {}, "must name an environment variable"),
    (f'key = "env:{VARIABLE}"\ndevelopment_key = "short"\n', {}, "development_key must be a string of 16"),
    (f'key = "{DEMO_KEY}"\ndevelopment_key = "{DEMO_KEY}"\n', {}, "development_key goes only with"),
    ('key = "short"\n', {}, "key must be a string of 16 characters or more"),
])
def test_a_key_that_cannot_be_used_stops_loading_naming_its_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key_lines: str, environ: dict[str, str], problem: str
) -> None:
    monkeypatch.delenv(VARIABLE)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    directory = policies_with(tmp_path, key_lines)
    with pytest.raises(PolicyError) as excinfo:
        load_policies(directory, build_schema())
    message, centre = str(excinfo.value), directory / "centre.toml"
    assert problem in message and message.startswith(f"{centre}:{excinfo.value.line}: ")
    assert centre.read_text().splitlines()[excinfo.value.line - 1].startswith(("key =", "development_key ="))
    assert DEMO_KEY not in message and "too-short" not in message


def applicant_mask(app: Any) -> Any:
    return app.state.hub.policies.types["Case"].fields["applicant_id"].mask.apply


async def test_a_production_hub_starts_with_the_key_from_the_environment(
    tmp_path: Path, demo_data_dir: Path, applicant_pseudonym_key: str
) -> None:
    settings = production_settings(f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}", demo_data_dir)
    app = create_app(settings)
    number = "110105194912310029"
    assert applicant_mask(app)(number) == pseudonym(number, applicant_pseudonym_key)
    await app.state.hub.aclose()


async def test_a_production_hub_refuses_the_development_key_set_in_the_environment(
    tmp_path: Path, demo_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(VARIABLE, DEMO_KEY)
    settings = production_settings(f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}", demo_data_dir)
    with pytest.raises(PolicyError) as excinfo:
        create_app(settings)
    assert f"needs {VARIABLE} set to a key of its own" in refusal(excinfo, POLICIES)


async def test_a_production_hub_refuses_a_key_written_in_a_policy_file(
    tmp_path: Path, demo_data_dir: Path
) -> None:
    directory = policies_with(tmp_path, 'key = "a-long-key-written-in-the-file"\n')
    settings = production_settings(f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}", demo_data_dir,
                                   policies_dir=directory)
    with pytest.raises(PolicyError) as excinfo:
        create_app(settings)
    message = refusal(excinfo, directory)
    assert "takes no key written in a policy file" in message and "a-long-key" not in message


async def test_a_development_hub_uses_the_development_key_while_the_variable_is_unset(
    tmp_path: Path, demo_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.graph.conftest import hub_settings

    monkeypatch.delenv(VARIABLE)
    app = create_app(hub_settings(demo_data_dir, "http://127.0.0.1:9", "http://127.0.0.1:9"))
    assert applicant_mask(app)("110105194912310029") == pseudonym("110105194912310029", DEMO_KEY)
    await app.state.hub.aclose()
