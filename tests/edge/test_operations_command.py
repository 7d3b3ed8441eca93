"""``hub operations hash`` prints the SHA-256 that names a document on an allow-list."""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson
import pytest

from hub.cli import main

MATTERS = "query Matters { serviceMatters { code } }\n"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_hub_operations_hash_prints_the_documents_sha256(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = tmp_path / "matters.graphql"
    document.write_text(MATTERS, encoding="utf-8")
    assert main(["operations", "hash", str(document)]) == 0
    assert capsys.readouterr().out == sha256(MATTERS) + "\n"
    assert main(["operations", "hash", "--json", str(document)]) == 0
    assert orjson.loads(capsys.readouterr().out) == {sha256(MATTERS): MATTERS}


def test_hub_operations_hash_prints_one_line_per_file_for_several(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [tmp_path / "a.graphql", tmp_path / "b.graphql"]
    for i, file in enumerate(files):
        file.write_text(f"{{ a{i}: __typename }}", encoding="utf-8")
    assert main(["operations", "hash", *map(str, files)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"{sha256(f.read_text())}  {f}" for f in files]


def test_hub_operations_hash_of_a_missing_file_fails_with_its_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["operations", "hash", str(tmp_path / "nope.graphql")]) == 1
    assert "nope.graphql" in capsys.readouterr().err
