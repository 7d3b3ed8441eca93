"""An auditor's search by client, purpose or case reads its index (migration 0007), not the whole log."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from hub.audit import AuditStore
from hub.audit.queries import _search_query
from hub.audit.search import criteria
from tests.audit.conftest import fill


@pytest.mark.parametrize(
    ("criterion", "value", "index"),
    [
        ("client_id", "market-system", "ix_audit_records_client_id_seq"),
        ("purpose", "licensing", "ix_audit_records_purpose_seq"),
        ("case_number", "TS-2026-000001", "ix_audit_records_case_number_seq"),
    ],
)
async def test_a_search_by_one_criterion_reads_its_index(
    store: AuditStore, criterion: str, value: str, index: str
) -> None:
    await fill(store, 20)
    asked = criteria(**{"client_id": None, "purpose": None, "case_number": None, "since": None, "until": None,
                        "limit": 5, "before_seq": None, criterion: value})
    query = _search_query(store, asked, None).compile(dialect=store.engine.dialect, compile_kwargs={"literal_binds": True})
    async with store.engine.connect() as conn:
        if not store.sqlite:
            await conn.execute(text("SET enable_seqscan = off"))  # a 20-row table would be scanned anyway
        explain = "EXPLAIN QUERY PLAN" if store.sqlite else "EXPLAIN"
        plan = " ".join(str(r[-1]) for r in await conn.exec_driver_sql(f"{explain} {query}"))
    assert index in plan, plan
