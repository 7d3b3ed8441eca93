"""Grants as the registry reads them: what each client may read now, and for which purposes.

A grant is live at ``now`` when it is active (not revoked) and ``valid_from <= now < valid_to``.
The registry reads this on every request, so a revocation, an expiry or a removed purpose takes
effect on the next one. The grant workflow (requests, approval, recertification) is ``hub.grants``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.store.models import GrantRow

DAY = 86_400


def new_grant_id() -> str:
    return f"g-{secrets.token_hex(8)}"


def live(now: int) -> tuple[ColumnElement[bool], ...]:
    """The WHERE clauses of a grant live at ``now``."""
    return (GrantRow.status == "active", GrantRow.valid_from <= now, GrantRow.valid_to > now)


async def live_grants(
    session: AsyncSession, client_ids: Iterable[str], now: int
) -> dict[str, Mapping[str, frozenset[str]]]:
    """client id -> (scope -> union of the purposes of its live grants naming that scope)."""
    found = await live_grants_and_quotas(session, client_ids, now)
    return {client_id: grants for client_id, (grants, _) in found.items()}


async def live_grants_and_quotas(
    session: AsyncSession, client_ids: Iterable[str], now: int
) -> dict[str, tuple[Mapping[str, frozenset[str]], Mapping[str, int]]]:
    """As ``live_grants``, with each client's disclosure quotas: scope -> the smallest quota set on a
    live grant naming it (a quota on any of its grants holds for the scope; in one query)."""
    ids = list(client_ids)
    found: dict[str, dict[str, set[str]]] = {client_id: {} for client_id in ids}
    quotas: dict[str, dict[str, int]] = {client_id: {} for client_id in ids}
    if ids:
        query = select(GrantRow.client_id, GrantRow.scopes, GrantRow.purposes, GrantRow.daily_quota).where(
            GrantRow.client_id.in_(ids), *live(now)
        )
        for client_id, scopes, purposes, quota in await session.execute(query):
            for scope in scopes:
                found[client_id].setdefault(scope, set()).update(purposes)
                if quota is not None:
                    quotas[client_id][scope] = min(quota, quotas[client_id].get(scope, quota))
    return {
        client_id: (
            MappingProxyType({s: frozenset(p) for s, p in grants.items()}), MappingProxyType(quotas[client_id])
        )
        for client_id, grants in found.items()
    }
