"""Operation limits: what one request may ask of the hub, each a setting (``[limits]`` in hub.toml).

Every refusal is a ``GraphQLError`` with a stable ``extensions.code`` and a message naming the
limit and its value, raised before any resolver runs. Limits that depend only on the document
(depth, aliases, root fields, a cost without variables) are judged once per cached document.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from graphql import GraphQLError


@dataclass(frozen=True)
class Limits:
    # Fields nested in one another, counted through fragments and inline fragments.
    max_depth: int = 15
    # Aliased fields in one operation, fragments counted once per spread. Generous: a department system
    # legitimately looks up a case's licences by number in one request, one alias each.
    max_aliases: int = 300
    # Lexical tokens in one document (graphql-core stops parsing beyond it).
    max_tokens: int = 20_000
    # Fields selected on the root type, fragments spread on Query included.
    max_root_fields: int = 200
    # Static estimate: a field costs 1, a list multiplies its selections by `first` (or default_list_size).
    max_cost: int = 500_000
    default_list_size: int = 20
    # Entity representations one `_entities` call on a subgraph endpoint may be given (a gateway sends
    # one per entity it needs from that subgraph); each costs its selection, as a list item does.
    max_representations: int = 1000
    max_body_bytes: int = 1_000_000
    # Seconds an operation may execute; beyond it the response is a TIMEOUT error and its work is cancelled.
    execution_timeout: float = 15.0
    # Operations in one JSON-array (batched) request; 1 refuses batches.
    max_batch: int = 10
    # Directory of `<client-id>.json` allow-lists ({sha256 hex: document}); None: no persisted operations.
    persisted_operations_dir: Path | None = None
    # Refuse any operation not on the caller's allow-list (production clients).
    require_persisted_operations: bool = False

    @classmethod
    def from_mapping(cls, raw: dict[str, Any]) -> Limits:
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise ValueError(f"unknown limits: {', '.join(unknown)}")
        return cls(**{name: _coerce(name, value, getattr(cls, name)) for name, value in raw.items()}).checked()

    def checked(self) -> Limits:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value <= 0:
                raise ValueError(f"limits.{f.name} must be positive (is {value})")
        if self.require_persisted_operations and self.persisted_operations_dir is None:
            raise ValueError("limits.require_persisted_operations needs limits.persisted_operations_dir")
        return self


def _coerce(name: str, value: Any, default: Any) -> Any:
    if name == "persisted_operations_dir":
        return None if value in (None, "") else Path(value)
    if isinstance(default, bool):
        if isinstance(value, bool) or str(value).lower() in ("true", "false"):
            return value if isinstance(value, bool) else str(value).lower() == "true"
        raise ValueError(f"limits.{name} must be true or false (is {value!r})")
    try:
        return type(default)(value)
    except (TypeError, ValueError):
        raise ValueError(f"limits.{name} must be a number (is {value!r})") from None


def refusal(code: str, message: str, **extensions: Any) -> GraphQLError:
    """A request-level refusal (no path): the edge answers it without a ``data`` entry."""
    return GraphQLError(message, extensions={"code": code, **extensions})
