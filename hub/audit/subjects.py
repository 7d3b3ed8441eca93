"""Whom a disclosed record is about, and the fields a request showed of each subject.

A disclosure record names subjects, not records: an enterprise (its USCC) or a person (their ID
number, kept as a keyed hash by ``Pseudonyms``). A licence is about its holder, a tax registration
about its taxpayer, a case about its applicant. Types about nobody in particular (a service matter,
the materials it asks for) are recorded as the request itself, without a subject.

``Disclosed`` collects, per subject, the fields each resolver showed under its selection and the
caller's decision for each; a list of 1,000 enterprises shares one field set, so collecting costs a
set insertion per record. A person's reference (a keyed hash) is worked out once per request and
kept, for the fair-use quotas (which count the same subjects before the record is written, or after
the answer when it is within the room its admission reserved) and the audit record alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from hub.audit.records import ENTERPRISE, PERSON, Decision, Pseudonyms, SubjectDisclosure, SubjectGroup
from hub.identifiers.errors import InvalidIdentifier

Subject = tuple[str, str]  # (enterprise | person, USCC | ID number in clear: held in memory only)
SubjectOf = Callable[[Mapping[str, Any]], Subject | None]


def _field(kind: str, key: str) -> SubjectOf:
    def subject(record: Mapping[str, Any]) -> Subject | None:
        value = record.get(key)
        return (kind, value) if isinstance(value, str) and value else None

    return subject


def _applicant(record: Mapping[str, Any]) -> Subject | None:
    kind = {"USCC": ENTERPRISE, "ID": PERSON}.get(record.get("applicant_id_type") or "")
    value = record.get("applicant_id")
    return (kind, value) if kind is not None and isinstance(value, str) else None


_UNKNOWN = ""  # no reference is empty: a subject not worked out yet

SUBJECT_OF: Mapping[str, SubjectOf] = {
    "Enterprise": _field(ENTERPRISE, "uscc"),
    "TaxRegistration": _field(ENTERPRISE, "uscc"),
    "AbnormalOperation": _field(ENTERPRISE, "uscc"),
    "FoodBusinessLicence": _field(ENTERPRISE, "holder_uscc"),
    "ConstructionPermit": _field(ENTERPRISE, "holder_uscc"),
    "PollutantDischargePermit": _field(ENTERPRISE, "holder_uscc"),
    "Person": _field(PERSON, "id_number"),
    "Case": _applicant,
}
# The record keys each of those reads: a list fetched with only the columns its selection reads is
# fetched with these too, so that its subjects are still known.
SUBJECT_KEYS: Mapping[str, frozenset[str]] = {
    "Enterprise": frozenset({"uscc"}),
    "TaxRegistration": frozenset({"uscc"}),
    "AbnormalOperation": frozenset({"uscc"}),
    "FoodBusinessLicence": frozenset({"holder_uscc"}),
    "ConstructionPermit": frozenset({"holder_uscc"}),
    "PollutantDischargePermit": frozenset({"holder_uscc"}),
    "Person": frozenset({"id_number"}),
    "Case": frozenset({"applicant_id_type", "applicant_id"}),
}


class Disclosed:
    """What one request showed, subject by subject: ``{"Type.field": decision}`` per subject."""

    __slots__ = ("_field_sets", "_persons", "_referenced_by", "_singles", "_subjects", "types")

    def __init__(self) -> None:
        self._field_sets: list[Mapping[str, Decision]] = []
        # Per subject, the indices of its field sets: one shared frozenset per field set for the
        # subjects shown under that one alone (most of them), so noting a subject allocates nothing
        # and ``groups`` hashes each distinct set once.
        self._subjects: dict[Subject, frozenset[int]] = {}
        self._singles: list[frozenset[int]] = []
        self._persons: dict[str, str | None] = {}  # ID number -> keyed hash; None: unreadable, recorded by nobody
        self._referenced_by: Pseudonyms | None = None
        self.types: set[str] = set()  # every type shown, with or without a subject

    def field_set(self, fields: Mapping[str, Decision]) -> int:
        self._field_sets.append(fields)
        self._singles.append(frozenset((len(self._field_sets) - 1,)))
        return len(self._field_sets) - 1

    def add(self, subject: Subject, field_set: int) -> None:
        found = self._subjects.get(subject)
        if found is None:
            self._subjects[subject] = self._singles[field_set]
        elif field_set not in found:
            self._subjects[subject] = found | self._singles[field_set]

    def add_all(self, subjects: Iterable[Subject], field_set: int) -> None:
        """``add`` for each subject, in order (a page of 1,000 records pays no call per subject)."""
        single = self._singles[field_set]
        table = self._subjects
        get = table.get
        for subject in subjects:
            found = get(subject)
            if found is None:
                table[subject] = single
            elif field_set not in found:
                table[subject] = found | single

    def __len__(self) -> int:
        return len(self._subjects)

    def person(self, id_number: str, pseudonyms: Pseudonyms) -> str | None:
        """A person's reference as the audit keeps it (``person:<keyed hash>``), None for an ID number
        that does not validate; worked out once for the request, however many ask (an enterprise's
        reference is its checked USCC, which ``Pseudonyms`` keeps for the whole process)."""
        if pseudonyms is not self._referenced_by:
            self._persons, self._referenced_by = {}, pseudonyms
        found = self._persons.get(id_number, _UNKNOWN)
        if found == _UNKNOWN:
            try:
                found = pseudonyms.person(id_number)
            except InvalidIdentifier:
                found = None  # a source's malformed key: nothing a subject could ask about
            self._persons[id_number] = found
        return found

    def _reference(self, kind: str, identifier: str, pseudonyms: Pseudonyms) -> str | None:
        """What the record keeps of a subject: a person's hash from ``person`` if it was asked for
        (the quotas ask before the record is written), else worked out here, without keeping it."""
        try:
            if kind != PERSON:
                return pseudonyms.enterprise(identifier)
            known = self._persons.get(identifier, _UNKNOWN) if self._persons else _UNKNOWN
            if known != _UNKNOWN and pseudonyms is self._referenced_by:
                return known
            return pseudonyms.person(identifier)
        except InvalidIdentifier:
            return None  # a source's malformed key: nothing a subject could ask about

    def shown(self) -> tuple[Sequence[Mapping[str, str]], Mapping[Subject, AbstractSet[int]]]:
        """The field sets, and per subject (in clear, in memory) the indices of those it was shown
        under: what the fair-use quotas count from, without building the audit's records."""
        return self._field_sets, self._subjects

    def subjects(self, pseudonyms: Pseudonyms) -> tuple[SubjectDisclosure, ...]:
        """The subjects as the audit keeps them (persons as keyed hashes); unreadable ids are skipped."""
        found: dict[str, dict[str, Decision]] = {}
        for (kind, identifier), sets in self._subjects.items():
            reference = self._reference(kind, identifier, pseudonyms)
            if reference is None:
                continue
            fields = found.setdefault(reference, {})
            for index in sorted(sets):  # as ``groups`` merges them
                fields.update(self._field_sets[index])
        return tuple(SubjectDisclosure(reference, fields) for reference, fields in found.items())

    def groups(self, pseudonyms: Pseudonyms) -> tuple[SubjectGroup, ...]:
        """The subjects as the audit keeps them, grouped by the field sets they were shown: the
        fields of a group are merged once, not once per subject. Persons' keyed hashes are kept, as
        ``person`` keeps them: a quota counted after the answer reuses them."""
        sets_of: dict[str, frozenset[int]] = {}
        if pseudonyms is not self._referenced_by:
            self._persons, self._referenced_by = {}, pseudonyms
        persons = self._persons  # hashed for the quotas, or kept here for a quota's count after the answer
        for (kind, identifier), sets in self._subjects.items():
            try:  # inline, not _reference: a list of 1,000 pays no call per subject
                if kind != PERSON:
                    reference = pseudonyms.enterprise(identifier)
                elif (known := persons.get(identifier, _UNKNOWN)) != _UNKNOWN:
                    if known is None:
                        continue
                    reference = known
                else:
                    reference = persons[identifier] = pseudonyms.person(identifier)
            except InvalidIdentifier:
                if kind == PERSON:
                    persons[identifier] = None
                continue  # a source's malformed key: nothing a subject could ask about
            before = sets_of.get(reference)
            sets_of[reference] = sets if before is None else before | sets
        by_sets: dict[frozenset[int], list[str]] = {}
        for reference, sets in sets_of.items():
            listed = by_sets.get(sets)
            if listed is None:
                by_sets[sets] = [reference]
            else:
                listed.append(reference)
        groups: list[SubjectGroup] = []
        for field_sets, references in by_sets.items():
            fields: dict[str, Decision] = {}
            for index in sorted(field_sets):
                fields.update(self._field_sets[index])
            groups.append(SubjectGroup(fields, tuple(references)))
        return tuple(groups)
