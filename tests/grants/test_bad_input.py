"""What a request must say: catalogue scopes of one owner, lower_snake purposes, a legal basis,
1-1095 days, a registered active client and departments. Each refusal names the problem."""

from __future__ import annotations

from typing import Any

import pytest

from hub.errors import NotFound
from hub.grants import GrantError
from tests.grants.conftest import CENTRE_STEWARD, OPERATOR, Setting

GOOD: dict[str, Any] = {
    "scopes": ["market.enterprise:read"], "purposes": ["licensing"], "legal_basis": "a basis", "duration_days": 30,
}


async def _ask(setting: Setting, client_id: str | None = None, **changes: Any) -> Any:
    values = {**GOOD, **changes}
    return await setting.service.request(
        OPERATOR, client_id or setting.centre_client, values["scopes"], values["purposes"],
        values["legal_basis"], values["duration_days"],
    )


@pytest.mark.parametrize(
    ("scopes", "message"),
    [
        (["market.everything:write"], "not in the scope catalogue: market.everything:write"),
        (["market.enterprise:read", "all"], "not in the scope catalogue: all"),
        ([], "at least one scope"),
        (["market.enterprise:read", "security.identity:read"], "one owning department per request"),
    ],
)
async def test_scopes_come_from_the_catalogue_one_owner_at_a_time(
    setting: Setting, scopes: list[str], message: str
) -> None:
    with pytest.raises(GrantError, match=message):
        await _ask(setting, scopes=scopes)


@pytest.mark.parametrize(
    "purposes", [[], ["Licensing"], ["licence review"], ["licence.review"], ["_x"], ["x" * 65], ["许可"], ["a__b"]]
)
async def test_purposes_are_named_in_lower_snake_case(setting: Setting, purposes: list[str]) -> None:
    with pytest.raises(GrantError, match="purpose"):
        await _ask(setting, purposes=purposes)


@pytest.mark.parametrize("basis", ["", "   ", "x" * 2001])
async def test_a_legal_basis_is_required(setting: Setting, basis: str) -> None:
    with pytest.raises(GrantError, match="legal basis"):
        await _ask(setting, legal_basis=basis)


@pytest.mark.parametrize("days", [0, -1, 1096, True, "30", 2.5])
async def test_a_duration_is_one_to_1095_days(setting: Setting, days: Any) -> None:
    with pytest.raises(GrantError, match="duration is 1 to 1095 days"):
        await _ask(setting, duration_days=days)


async def test_the_registry_check_needs_the_client_and_both_departments_active(setting: Setting) -> None:
    with pytest.raises(GrantError, match="no client 'centre-nobody'"):
        await _ask(setting, "centre-nobody")
    with pytest.raises(GrantError, match="department 'housing' is not registered"):
        await _ask(setting, scopes=["housing.construction_permit:read"])
    await setting.registry.set_department_status("market", "disabled")
    with pytest.raises(GrantError, match="department market is disabled"):
        await _ask(setting)
    await setting.registry.set_department_status("market", "active")
    await setting.registry.set_status(setting.centre_client, "disabled")
    with pytest.raises(GrantError, match="is disabled"):
        await _ask(setting)
    assert await setting.service.requests() == []


async def test_approval_repeats_the_registry_check(setting: Setting) -> None:
    asked = await setting.service.request(
        CENTRE_STEWARD, setting.centre_client, ["security.identity:read"], ["identity_check"], "a basis", 30
    )
    await setting.registry.set_department_status("centre", "disabled")
    with pytest.raises(GrantError, match="department centre is disabled"):
        await setting.service.approve(OPERATOR, asked.request_id)
    assert (await setting.service.request_record(asked.request_id)).status == "pending"


async def test_unknown_ids_are_named(setting: Setting) -> None:
    with pytest.raises(NotFound, match="no grant request 'r-0'"):
        await setting.service.approve(OPERATOR, "r-0")
    with pytest.raises(NotFound, match="no grant 'g-0'"):
        await setting.service.revoke(OPERATOR, "g-0", "why")
    with pytest.raises(NotFound, match="no grant 'g-0'"):
        await setting.service.grant("g-0")
