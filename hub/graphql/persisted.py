"""Persisted operations: a per-client allow-list of documents, enforceable in production.

``limits.persisted_operations_dir`` holds one ``<client-id>.json`` per client, mapping the
SHA-256 (hex, of the document's exact UTF-8 text; ``hub operations hash FILE``) to the document.
A request names a listed operation by hash, Apollo APQ style
(``extensions.persistedQuery.sha256Hash``, no ``query``), or sends a full document whose hash is
on the list. With ``limits.require_persisted_operations`` nothing else runs. Lists are read and
checked once at start-up: a hash that does not match its document stops the hub.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson
from graphql import GraphQLError

from hub.graphql.http import Params
from hub.graphql.limits import refusal
from hub.settings import SettingsError


def operation_hash(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


class PersistedOperations:
    def __init__(self, allowed: dict[str, dict[str, str]], *, required: bool = False) -> None:
        self._allowed = allowed
        self.required = required

    @classmethod
    def load(cls, directory: Path | None, *, required: bool = False) -> PersistedOperations:
        if directory is None:
            return cls({}, required=required)
        if not directory.is_dir():
            raise SettingsError(f"persisted operations directory {directory} does not exist")
        return cls({file.stem: _read_list(file) for file in sorted(directory.glob("*.json"))}, required=required)

    def document_for(self, params: Params, client_id: str | None) -> str:
        """The document this request runs, or a refusal (``GraphQLError``) saying why none."""
        allowed = self._allowed.get(client_id or "", {})
        sha256 = _requested_hash(params.extensions)
        if sha256 is None:
            assert params.query is not None  # read_params refuses a request with neither
            if self.required and operation_hash(params.query) not in allowed:
                raise _not_allowed(client_id)
            return params.query
        if params.query is None:
            found = allowed.get(sha256)
            if found is None:
                raise refusal("PERSISTED_QUERY_NOT_FOUND",
                              f"no persisted operation with hash {sha256} for client {client_id or 'anonymous'}")
            return found
        if operation_hash(params.query) != sha256:
            raise refusal("PERSISTED_QUERY_HASH_MISMATCH", "extensions.persistedQuery.sha256Hash is not the "
                          "SHA-256 of the query sent")
        if self.required and sha256 not in allowed:
            raise _not_allowed(client_id)
        return params.query


def _requested_hash(extensions: dict[str, Any] | None) -> str | None:
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is None:
        return None
    sha256 = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
    if not isinstance(sha256, str) or len(sha256) != 64:
        raise refusal("BAD_REQUEST", "extensions.persistedQuery.sha256Hash must be a SHA-256 in hex")
    return sha256.lower()


def _not_allowed(client_id: str | None) -> GraphQLError:
    return refusal(
        "PERSISTED_QUERY_NOT_ALLOWED",
        f"only persisted operations may run (require_persisted_operations = true) and this one is not on "
        f"the list of client {client_id or 'anonymous'}",
    )


def _read_list(file: Path) -> dict[str, str]:
    try:
        raw = orjson.loads(file.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise SettingsError(f"persisted operations {file}: {exc}") from None
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise SettingsError(f"persisted operations {file}: expected an object of sha256 -> document")
    for sha256, document in raw.items():
        if operation_hash(document) != sha256.lower():
            raise SettingsError(f"persisted operations {file}: {sha256} is not the SHA-256 of its document")
    return {sha256.lower(): document for sha256, document in raw.items()}
