"""strawberry's private attributes are reached in one module, ``hub/strawberry_bridge.py``.

ruff's SLF001 catches ``schema._schema``; it cannot see a private name in a string (``getattr(info,
"_raw_info")``) or a keyword (``Info(_raw_info=...)``), so this test reads the sources for those.
"""

from __future__ import annotations

import re
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
BRIDGE = PROJECT / "hub" / "strawberry_bridge.py"
# strawberry's private names the hub relies on (see the bridge's docstring).
# ``_field`` only as a keyword: the hub's own objects have ``self._field`` attributes of their own.
PRIVATE = re.compile(r"\b(_raw_info|_strawberry_schema|_is_default)\b|(?<![.\w])_field\s*=(?!=)")


def private_uses(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        if path == BRIDGE:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if PRIVATE.search(line.split("#", 1)[0]):
                found.append(f"{path}:{number}: {line.strip()}")
    return found


def test_only_the_bridge_names_strawberry_s_private_attributes() -> None:
    found = [use for package in ("hub", "schema", "connectors") for use in private_uses(PROJECT / package)]
    assert found == []


def test_the_check_sees_a_private_name_in_a_string_and_in_a_keyword(tmp_path: Path) -> None:
    module = tmp_path / "resolver.py"
    module.write_text('raw = getattr(info, "_raw_info", info)\nmade = Info(_raw_info=raw, _field=definition)\n')
    assert len(private_uses(tmp_path)) == 2
