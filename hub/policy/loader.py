"""Loading ``policies/*.toml`` against the built graph: everything checked, or the hub does not start.

``load_policies(directory, schema)`` raises ``PolicyError`` (file, line, field) for a malformed
file, a file named after no department, an unknown key, a type or field the graph does not have,
a field left unclassified, a type classified twice, a mask that does not exist or is misconfigured,
and a scope outside the catalogue (the bindings' scopes plus those the files declare).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import strawberry
from graphql import GraphQLSchema

from connectors.binding import load_bindings
from hub.oauth.catalogue import scope_catalogue
from hub.policy.catalogue import declared_scopes, policy_files
from hub.policy.errors import PolicyError
from hub.policy.graph import GraphField, classifiable_types
from hub.policy.masks_config import file_masks
from hub.policy.model import Policies, TypePolicy
from hub.policy.rules import type_policy
from hub.policy.source import PolicyFile, read_policy_file
from hub.strawberry_bridge import graphql_schema

DEFAULT_BINDINGS_DIR = Path(__file__).resolve().parents[2] / "connectors" / "departments"
FILE_KEYS = frozenset({"scopes", "masks", "types"})


def _graph_schema(schema: strawberry.Schema | GraphQLSchema) -> GraphQLSchema:
    return graphql_schema(schema)


def _read_all(directory: Path, departments: frozenset[str]) -> list[PolicyFile]:
    paths = policy_files(directory)
    if not paths:
        raise PolicyError(
            directory, 0, "no policy files (*.toml): every field of the graph must be classified"
        )
    files = []
    for path in paths:
        file = read_policy_file(path)
        if file.department not in departments:
            raise PolicyError(path, 1, f"{path.name} names no department ({', '.join(sorted(departments))})")
        file.table((), file.data, FILE_KEYS)
        files.append(file)
    return files


def _file_types(
    file: PolicyFile,
    graph: Mapping[str, Mapping[str, GraphField]],
    catalogue: frozenset[str],
) -> dict[str, TypePolicy]:
    table: Any = file.data.get("types", {})
    if not isinstance(table, dict):
        raise file.error(("types",), "types must be a table of [types.<Type>] tables")
    masks = file_masks(file)
    types: dict[str, TypePolicy] = {}
    for name, value in table.items():
        if name not in graph:
            raise file.error(("types", name), f"the graph has no object type {name!r} to classify")
        types[name] = type_policy(file, name, value, graph[name], catalogue, masks)
    return types


def _merge(file: PolicyFile, found: dict[str, TypePolicy], types: dict[str, TypePolicy]) -> None:
    for name, policy in found.items():
        if name in types:
            raise file.error(("types", name), f"{name} is already classified in {types[name].path}")
        types[name] = policy


def load_policies(
    directory: Path,
    schema: strawberry.Schema | GraphQLSchema,
    bindings_dir: Path = DEFAULT_BINDINGS_DIR,
) -> Policies:
    """Every object type's field policies; raises ``PolicyError`` at the first problem."""
    graph = classifiable_types(_graph_schema(schema))
    bound = scope_catalogue(bindings_dir)
    files = _read_all(directory, frozenset(load_bindings(bindings_dir)))
    declared = declared_scopes(files, bound)
    catalogue = bound | frozenset(declared)
    types: dict[str, TypePolicy] = {}
    for file in files:
        _merge(file, _file_types(file, graph, catalogue), types)
    missing = sorted(set(graph) - set(types))
    if missing:
        raise PolicyError(
            directory, 0, f"unclassified type(s) {', '.join(missing)}: no [types.<Type>] in any file"
        )
    return Policies(MappingProxyType(types), MappingProxyType(declared), catalogue)
