"""The subgraphs' SDL as checked in: ``schema/<department>.graphql``, one file per department.

Gateways and composers read these files (and reviewers diff them); the code is the source of truth,
so the files are generated from it and a test fails when one drifts.
"""

from __future__ import annotations

from pathlib import Path

from schema.subgraphs import DEPARTMENTS, build_subgraph, subgraph_sdl

SCHEMA_DIR = Path(__file__).resolve().parent.parent.parent / "schema"


def sdl_path(department: str, directory: Path = SCHEMA_DIR) -> Path:
    return directory / f"{department}.graphql"


def current_sdl() -> dict[str, str]:
    """Each department's subgraph SDL as the code prints it now."""
    return {department: subgraph_sdl(build_subgraph(department)) for department in DEPARTMENTS}


def stale_files(directory: Path = SCHEMA_DIR) -> list[Path]:
    """The SDL files that are missing or differ from what the code prints."""
    return [
        sdl_path(department, directory)
        for department, sdl in current_sdl().items()
        if not sdl_path(department, directory).is_file()
        or sdl_path(department, directory).read_text(encoding="utf-8") != sdl
    ]


def write_files(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write every department's SDL file; returns the files whose content changed."""
    changed = stale_files(directory)
    for department, sdl in current_sdl().items():
        sdl_path(department, directory).write_text(sdl, encoding="utf-8")
    return changed
