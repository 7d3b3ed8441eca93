"""Who may not: a steward acting for another department, auditors and developers changing
anything. Each refusal is ``Forbidden`` with a message naming who may, and changes nothing."""

from __future__ import annotations

import pytest

from hub.grants import Actor, Forbidden, GrantError
from tests.grants.conftest import (
    AUDITOR,
    CENTRE_STEWARD,
    DEVELOPER,
    MARKET_STEWARD,
    OPERATOR,
    SECURITY_STEWARD,
    Setting,
)

BASIS = "a legal basis"
TAXATION_STEWARD = Actor("tang", "steward", "taxation")


async def _pending(setting: Setting) -> str:
    asked = await setting.service.request(
        CENTRE_STEWARD, setting.centre_client, ["security.identity:read"], ["identity_check"], BASIS, 30
    )
    return asked.request_id


async def _granted(setting: Setting) -> str:
    asked = await setting.service.request(
        CENTRE_STEWARD, setting.centre_client, ["market.enterprise:read"], ["licensing", "statistics"], BASIS, 30
    )
    assert asked.grant_id is not None
    return asked.grant_id


async def _log_size(setting: Setting) -> int:
    return len(await setting.service.admin_log(limit=1000))


async def test_a_steward_may_not_request_for_another_departments_client(setting: Setting) -> None:
    with pytest.raises(Forbidden, match=r"ma \(steward of market\) may not request grants .* only a steward of centre"):
        await setting.service.request(
            MARKET_STEWARD, setting.centre_client, ["market.enterprise:read"], ["licensing"], BASIS, 30
        )
    assert await setting.service.requests() == [] and await _log_size(setting) == 0


@pytest.mark.parametrize("actor", [AUDITOR, DEVELOPER], ids=["auditor", "developer"])
async def test_read_only_roles_change_nothing(setting: Setting, actor: Actor) -> None:
    request_id, grant_id = await _pending(setting), await _granted(setting)
    before = await _log_size(setting)
    service, client = setting.service, setting.centre_client
    attempts = [
        service.request(actor, client, ["market.enterprise:read"], ["licensing"], BASIS, 30),
        service.approve(actor, request_id),
        service.refuse(actor, request_id, "no"),
        service.withdraw(actor, request_id),
        service.revoke(actor, grant_id, "no"),
        service.amend(actor, grant_id, ["statistics"]),
        service.recertify(actor, grant_id),
        service.grant_now(actor, client, ["market.enterprise:read"], ["licensing"], BASIS, 30),
    ]
    for attempt in attempts:
        with pytest.raises(Forbidden, match=f"{actor.role}"):
            await attempt
    assert await _log_size(setting) == before
    assert (await service.request_record(request_id)).status == "pending"
    assert (await service.grant(grant_id)).purposes == {"licensing", "statistics"}


@pytest.mark.parametrize("actor", [CENTRE_STEWARD, MARKET_STEWARD], ids=["requester", "third-department"])
async def test_only_the_owners_steward_answers_a_request(setting: Setting, actor: Actor) -> None:
    request_id = await _pending(setting)
    with pytest.raises(Forbidden, match="only a steward of security"):
        await setting.service.approve(actor, request_id)
    with pytest.raises(Forbidden, match="only a steward of security"):
        await setting.service.refuse(actor, request_id, "no")
    assert (await setting.service.request_record(request_id)).status == "pending"


async def test_only_the_requesting_side_withdraws(setting: Setting) -> None:
    request_id = await _pending(setting)
    with pytest.raises(Forbidden, match="may not withdraw"):
        await setting.service.withdraw(SECURITY_STEWARD, request_id)


async def test_a_third_departments_steward_may_not_revoke(setting: Setting) -> None:
    grant_id = await _granted(setting)
    with pytest.raises(Forbidden, match="a steward of market or centre, or the operator"):
        await setting.service.revoke(TAXATION_STEWARD, grant_id, "not mine")
    assert (await setting.service.grant(grant_id)).status == "active"


@pytest.mark.parametrize("actor", [CENTRE_STEWARD, TAXATION_STEWARD], ids=["consumer", "third-department"])
async def test_only_the_owner_amends_or_recertifies(setting: Setting, actor: Actor) -> None:
    grant_id = await _granted(setting)
    with pytest.raises(Forbidden, match="only a steward of market"):
        await setting.service.amend(actor, grant_id, ["statistics"])
    with pytest.raises(Forbidden, match="only a steward of market"):
        await setting.service.recertify(actor, grant_id)


async def test_only_the_operator_grants_in_one_step(setting: Setting) -> None:
    with pytest.raises(Forbidden, match="only the operator"):
        await setting.service.grant_now(
            MARKET_STEWARD, setting.market_client, ["security.identity:read"], ["identity_check"], BASIS, 30
        )
    assert await setting.service.requests() == []


async def test_an_actor_is_a_known_role_and_a_steward_names_a_department() -> None:
    with pytest.raises(GrantError, match="role must be one of"):
        Actor("x", "root")  # type: ignore[arg-type]
    with pytest.raises(GrantError, match="a steward acts for a department"):
        Actor("x", "steward")
    assert OPERATOR.department is None
