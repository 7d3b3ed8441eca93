"""Line numbers for TOML keys: tomllib gives values, not where they were written.

``key_lines(text)`` maps every key path a file writes (``("types", "Enterprise", "fields",
"registered_capital")``) to the line it is written on: table headers, ``key = value`` lines,
dotted keys. Keys inside an inline table or a multi-line value share the line of the key that
opens it, which is where a reviewer looks. ``line_of`` falls back to the nearest written parent,
so a missing key is reported on the header of the table that should hold it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

KeyPath = tuple[str, ...]
_PART = re.compile(r"""\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*""")
_HEADER = re.compile(r"^\[\[?(.*?)\]\]?\s*(?:#.*)?$")


def split_key(text: str) -> KeyPath | None:
    """``a."b.c".d`` -> ("a", "b.c", "d"); None when it is not a TOML key."""
    parts: list[str] = []
    position = 0
    while True:
        match = _PART.match(text, position)
        if match is None:
            return None
        parts.append(next(group for group in match.groups() if group is not None))
        position = match.end()
        if position == len(text):
            return tuple(parts)
        if text[position] != ".":
            return None
        position += 1


def _key_before_equals(line: str) -> KeyPath | None:
    in_quote = ""
    for index, ch in enumerate(line):
        if in_quote:
            in_quote = "" if ch == in_quote else in_quote
        elif ch in "\"'":
            in_quote = ch
        elif ch == "=":
            return split_key(line[:index])
    return None


def _opens_value(line: str) -> int:
    """How many brackets a line leaves open (strings skipped): a multi-line array or table."""
    depth, in_quote = 0, ""
    for ch in line:
        if in_quote:
            in_quote = "" if ch == in_quote else in_quote
        elif ch in "\"'":
            in_quote = ch
        elif ch == "#":
            break
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
    return depth


def key_lines(text: str) -> Mapping[KeyPath, int]:
    lines: dict[KeyPath, int] = {}
    table: KeyPath = ()
    depth = 0
    in_multiline_string = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.count('"""') % 2:
            in_multiline_string = not in_multiline_string
            if not in_multiline_string:
                continue
        if depth > 0 or (in_multiline_string and '"""' not in line):
            depth = max(depth + _opens_value(line), 0)
            continue
        header = _HEADER.match(line)
        key = _key_before_equals(line) if header is None else None
        if header is not None and (path := split_key(header.group(1))) is not None:
            table = path
            lines.setdefault(table, number)
        elif key is not None:
            lines.setdefault(table + key, number)
            depth = max(_opens_value(line.split("=", 1)[1]), 0)
    return lines


def line_of(lines: Mapping[KeyPath, int], path: KeyPath) -> int:
    """The line of ``path`` or of its nearest written parent; 1 when nothing of it is written."""
    for end in range(len(path), 0, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return 1
