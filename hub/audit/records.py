"""The disclosure record: what one request showed a caller, of whom, field by field.

A person's ID number never enters a record: it is replaced by a keyed hash (HMAC-SHA256 under a
key the hub derives from its key-encryption key), so the log can answer "who saw this person's
data" for someone who already holds the number, and tells nothing to someone who does not. An
enterprise's USCC is public (it is printed on the licence) and is kept in clear.

``canonical`` is the byte string the hash chain covers: sorted-key JSON, UTF-8, no spaces.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from hub.identifiers.errors import InvalidIdentifier
from hub.identifiers.id_number import validate_id_number
from hub.identifiers.uscc import validate_uscc

Decision = Literal["allow", "mask", "deny"]
DECISIONS: frozenset[str] = frozenset({"allow", "mask", "deny"})
ENTERPRISE = "enterprise"
PERSON = "person"


def now_iso() -> str:
    """The current instant in UTC, ISO 8601 with microseconds and a ``Z``."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def operation_hash(document: str) -> str:
    """SHA-256 of the GraphQL document as received (the name persisted-operation lists use)."""
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True, slots=True)
class SubjectDisclosure:
    """One subject's fields shown by a request, each with its policy decision.

    ``subject`` is ``enterprise:<USCC>`` or ``person:<HMAC-SHA256 of the ID number, hex>``; build it
    with ``Pseudonyms``, never by hand from a clear ID number.
    """

    subject: str
    fields: dict[str, Decision]

    def __post_init__(self) -> None:
        kind = self.subject.partition(":")[0]
        if kind not in (ENTERPRISE, PERSON):
            raise ValueError(f"a subject is enterprise:<USCC> or person:<keyed hash>, not {self.subject!r}")
        bad = sorted(f for f, d in self.fields.items() if d not in DECISIONS)
        if bad:
            raise ValueError(f"fields {', '.join(bad)} need a decision: allow, mask or deny")

    def as_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "fields": dict(self.fields)}


class Pseudonyms:
    """Turns subject identifiers into the references records hold (and lookups search by)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the subject key must be at least 32 bytes")
        self._key = key

    def enterprise(self, uscc: str) -> str:
        return f"{ENTERPRISE}:{validate_uscc(uscc)}"

    def person(self, id_number: str) -> str:
        code = validate_id_number(id_number)
        return f"{PERSON}:{hmac.new(self._key, code.encode('ascii'), hashlib.sha256).hexdigest()}"

    def references(self, identifier: str) -> list[str]:
        """Every reference an identifier can stand for: a USCC, an ID number, or both (an ID number
        can pass the USCC check too); a reference as records hold it (``enterprise:<USCC>``,
        ``person:<keyed hash>``) stands for itself."""
        kind, colon, rest = identifier.partition(":")
        if colon:
            return [self.reference(kind.lower(), rest)]
        found: list[str] = []
        for make in (self.enterprise, self.person):
            try:
                found.append(make(identifier))
            except InvalidIdentifier:
                continue
        if not found:
            raise InvalidIdentifier("subject", identifier, "is neither a valid USCC nor a valid ID number")
        return found

    def reference(self, kind: str, value: str) -> str:
        if kind == ENTERPRISE:
            return self.enterprise(value)
        digest = value.lower()
        if kind == PERSON and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest):
            return f"{PERSON}:{digest}"
        why = "is no reference the log holds (enterprise:<USCC> or person:<64 hex digits>)"
        raise InvalidIdentifier("subject", f"{kind}:{value}", why)


@dataclass(frozen=True, slots=True)
class Disclosure:
    """One request's disclosure: who asked, why, with which operation, and what they were shown."""

    request_id: str
    client_id: str
    department: str
    purpose: str
    operation_hash: str
    subjects: tuple[SubjectDisclosure, ...] = ()
    end_user: str | None = None
    case_number: str | None = None
    operation_name: str | None = None
    time: str = field(default_factory=now_iso)

    def as_dict(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "time": self.time,
            "client_id": self.client_id,
            "department": self.department,
            "end_user": self.end_user,
            "purpose": self.purpose,
            "case_number": self.case_number,
            "operation_name": self.operation_name,
            "operation_hash": self.operation_hash,
            "subjects": sorted((s.as_dict() for s in self.subjects), key=lambda s: s["subject"]),
        }

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> Disclosure:
        subjects = tuple(SubjectDisclosure(s["subject"], dict(s["fields"])) for s in value["subjects"])
        return cls(**{**value, "subjects": subjects})


def canonical(disclosure: Disclosure) -> bytes:
    """The bytes the chain hashes: the record as sorted-key JSON, UTF-8."""
    return canonical_json(disclosure.as_dict())
