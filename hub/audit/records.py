"""The disclosure record: what one request showed a caller, of whom, field by field.

A person's ID number never enters a record: it is replaced by a keyed hash (HMAC-SHA256 under a
key the hub derives from its key-encryption key), so the log can answer "who saw this person's
data" for someone who already holds the number, and tells nothing to someone who does not. An
enterprise's USCC is public (it is printed on the licence) and is kept in clear.

``canonical`` is the byte string the hash chain covers: sorted-key JSON, UTF-8, no spaces. Records
of layout 2 (every record written now) keep their subjects grouped by the fields shown: a list of
1,000 enterprises showing the same five fields is one field set and 1,000 references, not 1,000
copies of the set. Layout 1 (one entry per subject, each with its fields) is how records written
before were chained; ``verify`` recomputes each record in its own layout.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from hub.identifiers.errors import InvalidIdentifier
from hub.identifiers.id_number import validate_id_number
from hub.identifiers.uscc import validate_uscc

Decision = Literal["allow", "mask", "deny"]
DECISIONS: frozenset[str] = frozenset({"allow", "mask", "deny"})
ENTERPRISE = "enterprise"
PERSON = "person"
LAYOUT = 2  # how records are written now: subjects grouped by their field set
ENTERPRISES_KEPT = 200_000  # checked USCCs remembered (public codes; a few MB)
# Persons' keyed hashes remembered (about 4 MB): an ID number's checks and HMAC were a third of an
# audited list's record on the event loop (bench/README.md, "persons' pseudonyms remembered"). No new
# exposure: the process that holds them also holds the key and sees the ID numbers in the answers.
PERSONS_KEPT = 20_000


def now_iso() -> str:
    """The current instant in UTC, ISO 8601 with microseconds and a ``Z``."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")[:-6] + "Z"  # "+00:00" off: strftime's bytes


def operation_hash(document: str) -> str:
    """SHA-256 of the GraphQL document as received (the name persisted-operation lists use)."""
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


def canonical_json(value: Any) -> bytes:
    """Layout 1's canonical form (the standard library's JSON, kept byte for byte for old records)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def canonical_json_v2(value: Any) -> bytes:
    """Layout 2's canonical form: sorted keys, compact, UTF-8 (orjson, several times faster)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def subject_key(reference: str) -> int:
    """The subject index's key for a reference: the first 8 bytes of its SHA-256, as a signed
    64-bit integer (a tenth of the reference's size in the index; a look-up confirms each hit
    against the record's own subjects, so a collision can only cost a wasted read)."""
    return int.from_bytes(hashlib.sha256(reference.encode("utf-8")).digest()[:8], "big", signed=True)


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


@dataclass(frozen=True, slots=True)
class SubjectGroup:
    """Subjects shown the same fields with the same decisions (layout 2 keeps a group once)."""

    fields: Mapping[str, Decision]
    subjects: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"fields": dict(self.fields), "subjects": sorted(self.subjects)}


def grouped(groups: Iterable[tuple[Mapping[str, str], Iterable[str]]]) -> list[dict[str, Any]]:
    """``(fields, references)`` as layout 2 stores them: one group per distinct field set, each
    reference once (a reference named twice shows the union of its fields), in a fixed order.

    Costs two dictionary operations per reference: field sets are compared once per distinct set.
    """
    owner: dict[str, Mapping[str, str]] = {}
    for fields, references in groups:
        for reference in references:
            before = owner.get(reference)
            owner[reference] = fields if before is None else {**before, **fields}
    by_object: dict[int, tuple[Mapping[str, str], list[str]]] = {}
    for reference, fields in owner.items():
        entry = by_object.get(id(fields))
        if entry is None:
            by_object[id(fields)] = (fields, [reference])
        else:
            entry[1].append(reference)
    by_value: dict[bytes, tuple[dict[str, str], list[str]]] = {}
    for fields, references in by_object.values():
        key = canonical_json_v2(dict(fields))
        entry = by_value.get(key)
        if entry is None:
            by_value[key] = (dict(fields), references)
        else:
            entry[1].extend(references)
    return [{"fields": fields, "subjects": sorted(refs)} for _, (fields, refs) in sorted(by_value.items())]


def _one_group(group: SubjectGroup) -> list[dict[str, Any]]:
    """``grouped`` of a single group, without its tables: each reference once, sorted, the fields as given."""
    if not group.subjects:
        return []
    return [{"fields": dict(group.fields), "subjects": sorted(set(group.subjects))}]


def references(stored: Any, layout: int) -> list[str]:
    """The references a stored record's subjects name, whatever its layout (each once per group)."""
    if layout == 1:
        return [entry["subject"] for entry in stored]
    return [reference for group in stored for reference in group["subjects"]]


def expand(stored: Any, layout: int) -> dict[str, dict[str, str]]:
    """A stored record's subjects as ``{reference: {field: decision}}``, whatever its layout."""
    if layout == 1:
        return {s["subject"]: dict(s["fields"]) for s in stored}
    return {subject: dict(group["fields"]) for group in stored for subject in group["subjects"]}


class Pseudonyms:
    """Turns subject identifiers into the references records hold (and lookups search by)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the subject key must be at least 32 bytes")
        self._key = key
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)  # the key's pads worked out once, copied per person
        self._enterprises: dict[str, str] = {}  # USCC -> reference: a list of 1,000 checks each once
        self._persons: dict[str, str] = {}  # ID number as asked -> reference (``PERSONS_KEPT`` at most)

    def enterprise(self, uscc: str) -> str:
        found = self._enterprises.get(uscc)
        if found is None:
            found = f"{ENTERPRISE}:{validate_uscc(uscc)}"  # raises on a malformed code: never cached
            if len(self._enterprises) >= ENTERPRISES_KEPT:
                self._enterprises.clear()
            self._enterprises[uscc] = found
        return found

    def person(self, id_number: str) -> str:
        found = self._persons.get(id_number)
        if found is None:
            code = validate_id_number(id_number)  # raises on a malformed number: never remembered
            keyed = self._keyed.copy()  # HMAC-SHA256(key, code), without setting the key up again
            keyed.update(code.encode("ascii"))
            found = f"{PERSON}:{keyed.hexdigest()}"
            if len(self._persons) >= PERSONS_KEPT:
                self._persons.clear()
            self._persons[id_number] = found
        return found

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
    groups: tuple[SubjectGroup, ...] = ()  # subjects shown alike, as ``Disclosed`` collects them
    end_user: str | None = None
    case_number: str | None = None
    operation_name: str | None = None
    time: str = field(default_factory=now_iso)
    # A request a Federation gateway made: ``client_id`` is the gateway, and ``end_user``, ``purpose``,
    # ``case_number`` and ``origin_client`` (the department system it says it acts for) are its
    # declaration; ``origin_proven`` when that system's own access token came with it.
    gateway: str | None = None
    origin_client: str | None = None
    origin_proven: bool | None = None

    def entries(self) -> Iterable[tuple[Mapping[str, str], Iterable[str]]]:
        """Every ``(fields, references)`` the disclosure names, one subject at a time or grouped."""
        for single in self.subjects:
            yield single.fields, (single.subject,)
        for group in self.groups:
            yield group.fields, group.subjects

    def as_dict(self) -> dict[str, Any]:
        """Layout 1: one entry per subject (how records were chained before layout 2)."""
        subjects = expand(self.stored_subjects(), LAYOUT)
        listed = [{"subject": ref, "fields": fields} for ref, fields in sorted(subjects.items())]
        return {**self._header(), "subjects": listed}

    def stored(self) -> dict[str, Any]:
        """The record as layout 2 stores and chains it (the keys in ``_header``'s order, then these two)."""
        values = self._fields() if self.gateway is None else self._header()
        values["subjects"] = self.stored_subjects()
        values["layout"] = LAYOUT
        return values

    def stored_subjects(self) -> list[dict[str, Any]]:
        if not self.subjects and len(self.groups) == 1:  # one field set for all (one enterprise and its licences)
            return _one_group(self.groups[0])
        return grouped(self.entries())

    def _header(self) -> dict[str, Any]:
        # The gateway's fields only when a gateway made the request: every other record (and every
        # record written before gateways existed) keeps the bytes, and so the hash, it always had.
        declared = {} if self.gateway is None else {
            "gateway": self.gateway, "origin_client": self.origin_client, "origin_proven": bool(self.origin_proven),
        }
        return {**declared, **self._fields()}

    def _fields(self) -> dict[str, Any]:
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
        }

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> Disclosure:
        """A record from its ``as_dict`` (layout 1) or ``stored`` (layout 2) form."""
        fields = dict(value)
        if fields.pop("layout", 1) == 1:
            subjects = tuple(SubjectDisclosure(s["subject"], dict(s["fields"])) for s in fields["subjects"])
            return cls(**{**fields, "subjects": subjects})
        groups = tuple(SubjectGroup(dict(g["fields"]), tuple(g["subjects"])) for g in fields["subjects"])
        return cls(**{**fields, "subjects": (), "groups": groups})


def canonical(disclosure: Disclosure) -> bytes:
    """The bytes the chain hashes: the record in layout 2 as sorted-key JSON, UTF-8."""
    return canonical_json_v2(disclosure.stored())


def canonical_stored(values: Mapping[str, Any], layout: int) -> bytes:
    """The bytes a stored record was chained with, recomputed from its columns (``verify``)."""
    if layout == 1:
        return canonical_json(dict(values))
    return canonical_json_v2({**values, "layout": layout})
