from __future__ import annotations

from hub.errors import BadInput


class InvalidIdentifier(BadInput):
    """An identifier that fails its standard's rules; the message names the rule."""

    def __init__(self, kind: str, value: object, reason: str) -> None:
        self.kind = kind
        self.reason = reason
        shown = value if isinstance(value, str) and len(value) <= 40 else "<value>"
        super().__init__(f"invalid {kind} {shown!r}: {reason}")
