"""Review: what a caller's view tells beyond its fields (purpose refusals, cached explanations, limits).

Each test states what a purpose-bound, per-caller view promises and fails while the hub tells more;
they are marked xfail (strict) until fixed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hub.identifiers.uscc import uscc_check_char
from schema.pagination import decode_cursor
from tests.graph.conftest import DepartmentServices, HubClient, hub_settings, open_hub
from tests.policy.test_applied import CALLERS, ENTERPRISE, ask, caller, caller_named_in_header


@pytest.fixture
async def hub(demo_data_dir: Path, services: DepartmentServices) -> AsyncIterator[HubClient]:
    settings = hub_settings(demo_data_dir, services.ecology.url, services.security.url)
    async with open_hub(settings, authenticate=caller_named_in_header) as client:
        CALLERS["licensing-and-statistics"] = caller("licensing-and-statistics",
                                                     {ENTERPRISE: ["licensing", "statistics"]})
        CALLERS["licensing-only"] = caller("licensing-only", {ENTERPRISE: ["licensing"]})
        yield client


async def test_a_purpose_no_grant_names_lists_no_keys_through_cursors(hub: HubClient, demo_db: Any) -> None:
    usccs = {r["uscc"] for r in demo_db("market", "SELECT uscc FROM enterprises")}
    body = await ask(hub, "registry-only", "{ enterprises(first: 5) { edges { cursor node { uscc } } "
                     "pageInfo { endCursor } } }", purpose="supervision")
    assert body["errors"][0]["extensions"]["reason"] == "purpose"  # every field is refused for the purpose
    connection = (body.get("data") or {}).get("enterprises") or {}
    cursors = [e["cursor"] for e in connection.get("edges", [])]
    assert not {decode_cursor(c) for c in cursors if c} & usccs


def a_valid_uscc_not_registered(registered: set[str]) -> str:
    for serial in range(1000):
        first17 = f"91130200MA0{serial:06d}"[:17]
        uscc = first17 + uscc_check_char(first17)
        if uscc not in registered:
            return uscc
    raise AssertionError("no free USCC")


async def test_a_purpose_no_grant_names_does_not_tell_a_registered_enterprise_from_an_unknown_one(
    hub: HubClient, demo_db: Any
) -> None:
    registered = {r["uscc"] for r in demo_db("market", "SELECT uscc FROM enterprises")}
    query = "query($u: String!) { enterprise(uscc: $u) { name } }"
    known = await ask(hub, "registry-only", query, purpose="supervision", u=sorted(registered)[0])
    unknown = await ask(hub, "registry-only", query, purpose="supervision", u=a_valid_uscc_not_registered(registered))
    assert known.get("data") == unknown.get("data")


async def test_a_refusal_names_the_callers_own_grants_even_when_another_client_built_the_view(
    hub: HubClient, demo_db: Any
) -> None:
    [row] = demo_db("market", "SELECT uscc FROM enterprises ORDER BY uscc LIMIT 1")
    query = "query($u: String!) { enterprise(uscc: $u) { name } }"
    first = await ask(hub, "licensing-and-statistics", query, purpose="supervision", u=row["uscc"])
    assert "statistics" in first["errors"][0]["extensions"]["purpose"]
    second = await ask(hub, "licensing-only", query, purpose="supervision", u=row["uscc"])
    assert "statistics" not in second["errors"][0]["extensions"]["purpose"]


async def test_the_cost_limit_does_not_tell_a_hidden_list_field_from_a_missing_one(hub: HubClient) -> None:
    hub.hub.documents.hide_suggestions = True  # as in production

    def deep(field: str) -> str:
        return (f"{{ enterprises(first: 1000) {{ edges {{ node {{ {field} {{ holder {{ {field} {{ holder {{ {field} "
                "{ number } } } } } } } } }")

    hidden = await ask(hub, "registry-only", deep("licences"))
    missing = await ask(hub, "registry-only", deep("licencez"))
    assert hidden["errors"][0]["extensions"].get("code") == missing["errors"][0]["extensions"].get("code")
