"""The catalogue's scope list: every scope a client may be granted, its owner, what it opens.

The scopes are the policies' catalogue (the bindings' ``<department>.<entity>:read`` plus those
the policy files declare). A declared scope carries the description its owner wrote for stewards;
a binding's scope has none written, so its description is generated from the resources it opens.
"""

from __future__ import annotations

from collections.abc import Sequence

from hub.catalogue.model import Department, Resource, ScopeEntry
from hub.policy.catalogue import scope_sharing
from hub.policy.model import Policies


def scope_entries(
    policies: Policies, resources: Sequence[Resource], departments: Sequence[Department]
) -> tuple[ScopeEntry, ...]:
    titles = {d.id: d for d in departments}
    # The same classification the grant workflow uses to decide who must approve a request.
    sharing = scope_sharing(policies)
    entries = []
    for scope in sorted(policies.catalogue):
        owner = scope.partition(".")[0]
        if owner not in titles:
            raise ValueError(f"scope {scope!r} belongs to {owner!r}, which has no binding")
        types = tuple(r.name for r in resources if r.scope == scope)
        unlocked = [f for r in resources for f in r.fields if f.scope == scope]
        description = policies.declared_scopes.get(scope) or _described(
            scope, titles[owner], [r for r in resources if r.name in types]
        )
        entries.append(
            ScopeEntry(
                scope=scope,
                owner=owner,
                description=description,
                sharing=sharing[scope],
                types=types,
                unlocks=tuple(f"{f.resource}.{f.graphql_name}" for f in unlocked),
            )
        )
    return tuple(entries)


def _described(scope: str, owner: Department, opened: Sequence[Resource]) -> str:
    """``Market Regulation (市场监督管理局): Enterprise: An enterprise or ...`` for a binding's scope."""
    if not opened:
        entity = scope.split(".")[1].split(":")[0]
        return f"{owner.title} ({owner.title_local}): {entity} records; no resource of the graph uses it yet."
    parts = [f"{r.name}{': ' + r.description if r.description else ''}" for r in opened]
    return f"{owner.title} ({owner.title_local}): {'; '.join(parts)}"
