"""Fair use in the console: each client's use today against its limits (the rules are ``hub.fairuse``;
the operator sets a client's own limits on its page, ``registry_pages``, on the admin log).

``/admin/usage``: every client's rate limit and tokens left, cost this minute and today against its
budgets, and per scope the distinct subjects shown today against the quota its grants set; the
operator and auditors see every client, a steward their own department's (what it consumes).
Counts come from the hub's shared counters as they are now; when those cannot be read the page says
so rather than showing zeros.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.admin.access import require, visitor
from hub.admin.console import console
from hub.fairuse.counters import Usage
from hub.fairuse.limits import ClientLimits
from hub.store import ClientRecord

READERS = ("operator", "steward", "auditor")


@dataclass(frozen=True, slots=True)
class ClientUse:
    client: ClientRecord
    limits: ClientLimits
    own: bool  # its own limits, not the settings' defaults
    usage: Usage | None  # None: the counters could not be read


async def client_use(request: Request, client: ClientRecord) -> ClientUse:
    fair_use = console(request).fair_use
    limits = client.limits or fair_use.settings.defaults
    usage = await fair_use.usage(client.client_id, limits, client.quotas)
    return ClientUse(client, limits, client.limits is not None, usage)


@require(*READERS)
async def usage_page(request: Request) -> Response:
    who = visitor(request)
    registry = console(request).stores.registry
    department = who.account.department if who.role == "steward" else None
    uses = [await client_use(request, c) for c in await registry.clients(department)]
    context = {"uses": uses, "department": department, "enabled": console(request).fair_use.settings.enabled}
    return console(request).page(request, "usage.html", context)


def routes() -> list[Route]:
    return [
        Route("/usage", usage_page, methods=["GET"]),
    ]
