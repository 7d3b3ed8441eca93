"""The subgraphs' SDL: generated from the code, checked in under schema/, served at `_service { sdl }`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from graphql import ObjectTypeDefinitionNode, parse

from hub.cli import main
from hub.federation.sdl import current_sdl, sdl_path, stale_files
from schema.subgraphs import DEPARTMENTS

FEDERATION_LINK = '@link(url: "https://specs.apollo.dev/federation/v2.7"'


def _fields(department: str, type_name: str) -> dict[str, list[str]]:
    """Field name -> directive names, of one object type in a department's checked-in SDL."""
    document = parse(sdl_path(department).read_text(encoding="utf-8"))
    for node in document.definitions:
        if isinstance(node, ObjectTypeDefinitionNode) and node.name.value == type_name:
            return {f.name.value: [d.name.value for d in f.directives or ()] for f in node.fields or ()}
    raise AssertionError(f"{department} declares no type {type_name}")


def test_checked_in_sdl_is_what_the_code_prints() -> None:
    stale = stale_files()
    assert not stale, f"stale subgraph SDL {[str(p) for p in stale]}: run `hub federation sdl --write`"


def test_every_subgraph_links_federation_2_7() -> None:
    for department, sdl in current_sdl().items():
        assert FEDERATION_LINK in sdl, department


def test_a_department_declares_only_the_fields_it_contributes() -> None:
    assert _fields("taxation", "Enterprise") == {"uscc": [], "taxRegistration": []}
    assert _fields("housing", "Enterprise") == {"uscc": [], "constructionPermits": []}
    assert _fields("ecology", "Enterprise") == {"uscc": [], "dischargePermits": []}
    assert _fields("centre", "Enterprise") == {"uscc": [], "licences": [], "cases": []}
    assert _fields("security", "Person") == {
        "idNumber": [], "name": ["external"], "identityVerification": ["requires"],
    }
    assert "taxRegistration" not in _fields("market", "Enterprise")
    assert "identityVerification" not in _fields("market", "Person")


def test_sdl_command_writes_the_files_and_check_fails_until_it_has(tmp_path: Path, capsys: Any) -> None:
    assert main(["federation", "sdl", "--check", "--dir", str(tmp_path)]) == 1
    assert "hub federation sdl --write" in capsys.readouterr().err
    assert main(["federation", "sdl", "--write", "--dir", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{d}.graphql" for d in DEPARTMENTS)
    assert main(["federation", "sdl", "--check", "--dir", str(tmp_path)]) == 0
    (tmp_path / "taxation.graphql").write_text("type Query { stale: Int }\n", encoding="utf-8")
    assert main(["federation", "sdl", "--check", "--dir", str(tmp_path)]) == 1


def test_sdl_command_prints_one_department(capsys: Any) -> None:
    assert main(["federation", "sdl", "security"]) == 0
    assert capsys.readouterr().out == sdl_path("security").read_text(encoding="utf-8")


def test_each_subgraph_endpoint_serves_its_checked_in_sdl(served_hub: Any) -> None:
    _, running = served_hub
    for department in DEPARTMENTS:
        response = httpx.post(f"{running.url}/subgraphs/{department}/graphql", json={"query": "{ _service { sdl } }"})
        assert response.status_code == 200, response.text
        served = response.json()["data"]["_service"]["sdl"]
        assert served + "\n" == sdl_path(department).read_text(encoding="utf-8"), department
