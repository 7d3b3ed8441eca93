"""Fair use in the catalogue export: the limits every client gets, and the clients whose own limits or
grant quotas differ, so a consuming department reads what it may spend beside what it may read.

The section is read from the registry at export time (limits and quotas change without a release);
clients on the defaults with no quota are left out, each listed client with its department.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hub.fairuse.limits import FairUseSettings
from hub.store import ClientRecord


def fair_use_section(settings: FairUseSettings, clients: Iterable[ClientRecord]) -> dict[str, Any]:
    return {
        "enabled": settings.enabled,
        "defaults": settings.defaults.as_json(),
        "day_starts_at_utc_offset_minutes": settings.utc_offset_minutes,
        "clients": [
            {
                "client_id": client.client_id,
                "department": client.department,
                "limits": None if client.limits is None else client.limits.as_json(),
                "daily_subject_quotas": dict(sorted(client.quotas.items())),
            }
            for client in sorted(clients, key=lambda c: c.client_id)
            if client.limits is not None or client.quotas
        ],
    }
