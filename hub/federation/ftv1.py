"""Apollo federated tracing (ftv1): the ``Trace`` protobuf message, encoded by hand.

A gateway that collects traces sends ``apollo-federation-include-trace: ftv1``; the subgraph answers
with ``extensions.ftv1``, the base64 of a ``Trace`` (Apollo's ``reports.proto``) whose root node has a
child per resolved field. Only the fields used here are encoded, so no protobuf runtime is needed:

  Trace:     end_time = 3 (Timestamp), start_time = 4 (Timestamp), duration_ns = 11, root = 14 (Node)
  Node:      response_name = 1 | index = 2, type = 3, start_time = 8, end_time = 9 (ns from the
             trace's start), error = 11 (Error), child = 12 (Node), parent_type = 13
  Error:     message = 1, json = 4
  Timestamp: seconds = 1, nanos = 2
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

_VARINT = 0
_BYTES = 2


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _tag(number: int, wire_type: int) -> bytes:
    return _varint(number << 3 | wire_type)


def _uint(number: int, value: int) -> bytes:
    return _tag(number, _VARINT) + _varint(value) if value else b""


def _bytes(number: int, value: bytes) -> bytes:
    return _tag(number, _BYTES) + _varint(len(value)) + value


def _text(number: int, value: str | None) -> bytes:
    return _bytes(number, value.encode()) if value else b""


def timestamp(ns_since_epoch: int) -> bytes:
    seconds, nanos = divmod(ns_since_epoch, 1_000_000_000)
    return _uint(1, seconds) + _uint(2, nanos)


@dataclass(slots=True)
class Node:
    """One response path element: a field (``response_name``) or a list item (``index``)."""

    response_name: str | None = None
    index: int | None = None
    type: str | None = None
    parent_type: str | None = None
    start_ns: int = 0
    end_ns: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)  # (message, JSON of the error)
    children: list[Node] = field(default_factory=list)

    def encode(self) -> bytes:
        parts = [_text(1, self.response_name)]
        if self.response_name is None and self.index is not None:
            # index is a oneof with response_name: 0 is a real value, so it is always written.
            parts.append(_tag(2, _VARINT) + _varint(self.index))
        parts += [_text(3, self.type), _uint(8, self.start_ns), _uint(9, self.end_ns)]
        parts += [_bytes(11, _text(1, message) + _text(4, json)) for message, json in self.errors]
        parts += [_bytes(12, child.encode()) for child in self.children]
        parts.append(_text(13, self.parent_type))
        return b"".join(parts)


@dataclass(slots=True)
class Trace:
    start_unix_ns: int
    end_unix_ns: int
    duration_ns: int
    root: Node

    def encode(self) -> bytes:
        return b"".join((
            _bytes(3, timestamp(self.end_unix_ns)),
            _bytes(4, timestamp(self.start_unix_ns)),
            _uint(11, self.duration_ns),
            _bytes(14, self.root.encode()),
        ))

    def base64(self) -> str:
        return base64.b64encode(self.encode()).decode("ascii")
