"""``chain_status``: the verification of the log summed up for an auditor's page or a monitoring check.

It runs ``verify`` over the whole log (nothing is cached: a status that could be stale would vouch
for records nobody checked) and adds when the chain was last sealed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from hub.audit.records import now_iso
from hub.audit.store import AuditStore
from hub.audit.tables import AuditSealRow
from hub.audit.verify import Finding, verify


@dataclass(frozen=True, slots=True)
class ChainStatus:
    """``intact`` when ``findings`` is 0; ``by_kind`` counts findings per kind (edited, deleted ...)."""

    checked_at: str
    records: int
    last_seq: int
    seals: int
    last_sealed_seq: int | None
    last_sealed_at: str | None
    findings: int
    by_kind: dict[str, int]
    first_findings: tuple[Finding, ...]

    @property
    def intact(self) -> bool:
        return self.findings == 0


async def chain_status(store: AuditStore, *, show: int = 20) -> ChainStatus:
    """Verify the log now; ``first_findings`` keeps the first ``show`` findings, by seq."""
    checked_at = now_iso()
    report = await verify(store)
    latest = await _latest_seal(store)
    return ChainStatus(
        checked_at=checked_at,
        records=report.records,
        last_seq=report.last_seq,
        seals=report.seals,
        last_sealed_seq=None if latest is None else latest.seq,
        last_sealed_at=None if latest is None else latest.sealed_at,
        findings=len(report.findings),
        by_kind=dict(sorted(Counter(f.kind for f in report.findings).items())),
        first_findings=tuple(report.findings[:show]),
    )


async def _latest_seal(store: AuditStore) -> Any:
    query = (
        select(AuditSealRow.seq, AuditSealRow.sealed_at)
        .order_by(AuditSealRow.seq.desc(), AuditSealRow.id.desc())
        .limit(1)
    )
    async with store.engine.connect() as conn:
        return (await conn.execute(query)).first()
