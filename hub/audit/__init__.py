"""The disclosure audit (docs/architecture.md: "The audit").

One record per request, append-only and hash-linked (``chain``), appended in groups by ``AuditStore``
(the ``AuditSink``), periodically sealed with an ES256 signature (``seals``), checked end to end
by ``verify``, and queried by subject with ``who_accessed``.
"""

from __future__ import annotations

from hub.audit.chain import GENESIS, AuditKeys, link
from hub.audit.queries import Access, who_accessed
from hub.audit.records import Disclosure, Pseudonyms, SubjectDisclosure, SubjectGroup, canonical, operation_hash
from hub.audit.seals import Seal
from hub.audit.store import AuditSink, AuditStore, AuditWriteFailed
from hub.audit.verify import Finding, Report, verify

__all__ = [
    "GENESIS",
    "Access",
    "AuditKeys",
    "AuditSink",
    "AuditStore",
    "AuditWriteFailed",
    "Disclosure",
    "Finding",
    "Pseudonyms",
    "Report",
    "Seal",
    "SubjectDisclosure",
    "SubjectGroup",
    "canonical",
    "link",
    "operation_hash",
    "verify",
    "who_accessed",
]
