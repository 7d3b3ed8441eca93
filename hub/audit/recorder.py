"""The edge's side of the disclosure audit: one record per executed operation, before the answer.

docs/architecture.md, rule 6: if the record cannot be written, the data is not returned. The recorder
writes to the audit store the app built on its one database (``hub.store.owner.Database``: one
database holds registry, grants and audit).
"""

from __future__ import annotations

from hub.audit.records import Disclosure, operation_hash
from hub.audit.store import AuditStore
from hub.audit.subjects import Disclosed
from hub.context import Caller

DEVELOPMENT_CLIENT = "anonymous"  # the development demo's caller: recorded all the same


class DisclosureRecorder:
    def __init__(self, store: AuditStore) -> None:
        self.store = store

    async def record(
        self, request_id: str, caller: Caller, document: str, operation_name: str | None, disclosed: Disclosed,
    ) -> int:
        """Append the request's record; raises ``AuditWriteFailed`` (or any store error) when it cannot."""
        store = self.store
        disclosure = Disclosure(
            request_id=request_id,
            client_id=caller.client_id or DEVELOPMENT_CLIENT,
            department=caller.department or "development",
            purpose=caller.purpose or "",
            operation_hash=operation_hash(document),
            groups=disclosed.groups(store.pseudonyms),
            end_user=caller.end_user,
            case_number=caller.case_number,
            operation_name=operation_name,
            gateway=caller.gateway,
            origin_client=caller.origin_client,
            origin_proven=caller.origin_proven if caller.gateway else None,
        )
        return await store.append(disclosure)
