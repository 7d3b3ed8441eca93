"""The app's composition, its edge, the console and the data path sit in no import cycle.

Every ``import`` of the hub's own modules counts, those for the type checker only (under
``TYPE_CHECKING``) and those inside functions included: a cycle a type checker or a reader has to
untangle is a cycle, whether or not Python happens to survive it at run time.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("hub", "schema", "connectors")
# Modules that must be in no cycle: the composition and what it composes at the edge, the request
# context and the data path below it, and the parts beside it that hold state.
ACYCLIC = (
    "hub.app", "hub.composition", "hub.admin", "hub.graphql.endpoint", "hub.federation.endpoint",
    "hub.readiness", "hub.ops", "hub.context", "hub.data", "hub.store", "hub.oauth", "hub.audit",
)


def modules(root: Path) -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            name = ".".join(path.relative_to(root).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports(root: Path) -> dict[str, set[str]]:
    """Each module -> the hub modules it imports (a name imported from a package: its module if it is one)."""
    known = modules(root)

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        targets: set[str | None] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(resolve(alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets.update(resolve(f"{node.module}.{alias.name}") for alias in node.names)
        graph[name] = {t for t in targets if t is not None and t != name}
    return graph


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for target in edges:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return found


def _acyclic(name: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in ACYCLIC)


def test_the_composition_the_edge_the_console_and_the_data_path_are_in_no_import_cycle() -> None:
    graph = imports(ROOT)
    assert {"hub.app", "hub.admin.console", "hub.data.records"} <= graph.keys()
    tangled = [component for component in cycles(graph) if any(_acyclic(m) for m in component)]
    assert tangled == []


def test_the_check_finds_a_cycle_through_a_type_checking_import() -> None:
    graph = {"hub.app": {"hub.admin"}, "hub.admin": {"hub.admin.console"}, "hub.admin.console": {"hub.app"},
             "hub.settings": set()}
    assert cycles(graph) == [["hub.admin", "hub.admin.console", "hub.app"]]
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from hub.app import Hub\n"
    assert any(isinstance(node, ast.ImportFrom) and node.module == "hub.app" for node in ast.walk(ast.parse(source)))
