"""The one error a policy problem raises: it names the file, the line and what is wrong."""

from __future__ import annotations

from pathlib import Path


class PolicyError(ValueError):
    """A policy set the hub must not start with (docs/architecture.md, rule 2: nothing exposed by accident).

    ``line`` is 1-based; 0 when the problem belongs to no line of any file (a type of the graph
    that no file classifies), in which case ``path`` is the policy directory.
    """

    def __init__(self, path: Path | str, line: int, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {problem}")
