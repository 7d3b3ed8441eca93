"""Which scopes a request's disclosures fall under, for the disclosure quotas on grants.

A data owner sets a quota on a grant: how many distinct subjects (enterprises, persons) per day the
client may be shown under each of its scopes. A subject counts under the scope of every type it was
shown fields of (allowed or masked), and under a field's own scope when that field was shown in
clear; a denied field shows nothing and counts nothing. Subjects are counted by the references the
audit keeps (an enterprise's USCC; a person's keyed hash), never by an ID number in clear. The
scopes are worked out once per field set (a request has a few), not per subject.
"""

from __future__ import annotations

from collections.abc import Mapping

from hub.audit.records import PERSON, Pseudonyms
from hub.audit.subjects import Disclosed
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
    disclosed: Disclosed, scopes_of: FieldScopes, quotas: Mapping[str, int], pseudonyms: Pseudonyms
) -> dict[str, set[str]]:
    """scope (of those with a quota) -> references of the subjects the request showed under it. A
    person's keyed hash is the request's own (``Disclosed.person``): the audit record reuses it."""
    field_sets, subjects = disclosed.shown()
    under = [_quota_scopes(fields, scopes_of, quotas) for fields in field_sets]  # a few sets per request
    if not any(under):
        return {}
    found: dict[str, set[str]] = {}
    for subject, indices in subjects.items():
        if len(indices) == 1:  # most subjects: shown under one selection
            (index,) = indices
            scopes = under[index]
        else:
            scopes = frozenset().union(*[under[i] for i in indices])
        if not scopes:
            continue
        kind, identifier = subject
        if kind == PERSON:
            reference = disclosed.person(identifier, pseudonyms)
            if reference is None:
                continue  # a source's malformed ID number: not a subject the audit records either
        else:
            reference = f"{kind}:{identifier}"
        for scope in scopes:
            refs = found.get(scope)
            if refs is None:
                found[scope] = {reference}
            else:
                refs.add(reference)
    return found


def _quota_scopes(fields: Mapping[str, str], scopes_of: FieldScopes, quotas: Mapping[str, int]) -> frozenset[str]:
    found: set[str] = set()
    for name, decision in fields.items():
        if decision == "deny" or name not in scopes_of:
            continue
        type_scope, own_scope = scopes_of[name]
        found.add(type_scope)
        if decision == "allow" and own_scope is not None:
            found.add(own_scope)
    return frozenset(found & quotas.keys())
