"""A policy file as read: its TOML data, where each key was written, and errors that say so."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.policy.errors import PolicyError
from hub.policy.lines import KeyPath, key_lines, line_of

_DECODE_LINE = re.compile(r"at line (\d+)")


@dataclass(frozen=True, slots=True)
class PolicyFile:
    path: Path
    department: str
    data: Mapping[str, Any]
    lines: Mapping[KeyPath, int]

    def error(self, key: KeyPath, problem: str) -> PolicyError:
        return PolicyError(self.path, line_of(self.lines, key), problem)

    def table(self, key: KeyPath, value: Any, allowed: frozenset[str]) -> Mapping[str, Any]:
        """``value`` as a table with no key outside ``allowed`` (strict: a misspelt key is an error)."""
        if not isinstance(value, dict):
            raise self.error(key, f"{'.'.join(key)} must be a table")
        for name in value:
            if name not in allowed:
                known = ", ".join(sorted(allowed))
                raise self.error(
                    key + (name,), f"unknown key {name!r} in {'.'.join(key) or 'file'} ({known})"
                )
        return value

    def string(self, key: KeyPath, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, f"{'.'.join(key)} must be a non-empty string")
        return value


def read_policy_file(path: Path) -> PolicyFile:
    """Parse one file; a file that is not UTF-8 TOML raises ``PolicyError`` with the parser's line."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise PolicyError(path, 1, f"not UTF-8 text ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        match = _DECODE_LINE.search(str(exc))
        raise PolicyError(path, int(match.group(1)) if match else 1, f"malformed TOML: {exc}") from None
    return PolicyFile(path, path.stem, data, key_lines(text))
