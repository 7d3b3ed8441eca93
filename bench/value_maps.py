"""The value maps the hub's bindings declare, read straight from the TOML so the floor applies the same.

A binding translates a department's own words into the graph's enum values in
``[entities.<entity>.values.<field>]`` (department word = graph value), e.g. Market Regulation's
``"有效" = "VALID"`` for a food licence's status. A word with no entry passes unchanged, as in the hub.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any


class ValueMaps:
    def __init__(self, maps: dict[tuple[str, str, str], dict[str, str]]) -> None:
        self._maps = maps

    def of(self, department: str, entity: str, field: str) -> Callable[[Any], Any]:
        """Department word -> graph value for one field (identity when the binding maps nothing)."""
        mapping = self._maps.get((department, entity, field), {})
        return lambda value: mapping.get(value, value)


def load_value_maps(bindings_dir: Path) -> ValueMaps:
    maps: dict[tuple[str, str, str], dict[str, str]] = {}
    for path in sorted(bindings_dir.glob("*.toml")):
        document = tomllib.loads(path.read_text(encoding="utf-8"))
        for entity, spec in document.get("entities", {}).items():
            for field, mapping in spec.get("values", {}).items():
                maps[(document["department"], entity, field)] = dict(mapping)
    return ValueMaps(maps)
