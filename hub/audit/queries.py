"""Auditors' questions of the log: who accessed this subject's data, when and why.

The lookup reads ``audit_subjects`` by its (subject, seq) index and joins each hit to its
record by primary key, so it costs the subject's own accesses, not the length of the log. A
person is looked up by the keyed hash of their ID number, made with the same key as on append.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, select

from hub.audit.store import AuditStore
from hub.audit.tables import AuditRecordRow, AuditSubjectRow


@dataclass(frozen=True, slots=True)
class Access:
    seq: int
    time: str
    client_id: str
    department: str
    end_user: str | None
    purpose: str
    case_number: str | None
    operation_name: str | None
    fields: dict[str, str]  # field -> allow | mask | deny


async def who_accessed(store: AuditStore, identifier: str) -> list[Access]:
    """Every disclosure of the subject (an enterprise's USCC or a person's ID number), oldest first.

    Raises ``InvalidIdentifier`` when the identifier is neither.
    """
    references = store.pseudonyms.references(identifier)
    query = (
        select(AuditRecordRow, AuditSubjectRow.subject)
        .join(AuditSubjectRow, AuditSubjectRow.seq == AuditRecordRow.seq)
        .where(AuditSubjectRow.subject.in_(references))
        .order_by(AuditSubjectRow.seq)
    )
    async with store.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [_access(row) for row in rows]


def _access(row: Row[Any]) -> Access:
    fields = next((s["fields"] for s in row.subjects if s["subject"] == row.subject), {})
    return Access(
        row.seq,
        row.time,
        row.client_id,
        row.department,
        row.end_user,
        row.purpose,
        row.case_number,
        row.operation_name,
        dict(fields),
    )
