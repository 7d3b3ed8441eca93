"""Which scopes a request's disclosures fall under, for the disclosure quotas on grants.

A data owner sets a quota on a grant: how many distinct subjects (enterprises, persons) per day the
client may be shown under each of its scopes. A subject counts under the scope of every type it was
shown fields of (allowed or masked), and under a field's own scope when that field was shown in
clear; a denied field shows nothing and counts nothing. Subjects are counted as short digests of the
references the audit keeps (a person's is already a keyed hash), never as identifiers in clear.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from hub.audit.records import SubjectDisclosure
from hub.policy import Policies

# "Type.field" -> (the type's scope, the field's own scope or None)
FieldScopes = Mapping[str, tuple[str, str | None]]


def field_scopes(policies: Policies) -> FieldScopes:
    return {
        f"{type_name}.{name}": (policy.scope, field.scope)
        for type_name, policy in policies.types.items()
        for name, field in policy.fields.items()
    }


def shown_under(
    subjects: Iterable[SubjectDisclosure], scopes_of: FieldScopes, quotas: Mapping[str, int]
) -> dict[str, set[str]]:
    """scope (of those with a quota) -> digests of the subjects the request showed under it."""
    found: dict[str, set[str]] = {scope: set() for scope in quotas}
    for subject in subjects:
        digest = hashlib.blake2b(subject.subject.encode(), digest_size=12).hexdigest()
        for name, decision in subject.fields.items():
            if decision == "deny" or name not in scopes_of:
                continue
            type_scope, own_scope = scopes_of[name]
            if type_scope in found:
                found[type_scope].add(digest)
            if decision == "allow" and own_scope in found:
                found[own_scope].add(digest)  # type: ignore[index]
    return {scope: digests for scope, digests in found.items() if digests}
