"""The grant workflow as stewards and the operator use it, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from hub.errors import Conflict
from hub.grants import Actor, GrantError
from tests.grants.conftest import CENTRE_STEWARD, DAY, MARKET_STEWARD, OPERATOR, SECURITY_STEWARD, Setting

UNCONDITIONAL = ["market.enterprise:read", "market.food_licence:read"]
CONDITIONAL = ["security.identity:read"]
BASIS = "行政许可法 第三十一条: verify the applicant's identity once, from the owner"


async def test_unconditional_scopes_are_granted_at_once_after_the_registry_check(setting: Setting) -> None:
    service, client = setting.service, setting.centre_client
    asked = await service.request(CENTRE_STEWARD, client, UNCONDITIONAL, ["licensing"], BASIS, 90)
    assert asked.status == "granted" and asked.grant_id is not None and asked.decided_by == "chen"
    grant = await service.grant(asked.grant_id)
    assert grant.scopes == set(UNCONDITIONAL) and grant.purposes == {"licensing"}
    assert grant.owner_department == "market" and grant.consumer_department == "centre"
    assert grant.valid_to - grant.valid_from == 90 * DAY and grant.live_at(service.now())
    read = await setting.registry.client(client)
    assert read is not None and read.grants == {s: frozenset({"licensing"}) for s in UNCONDITIONAL}


async def test_a_conditional_scope_waits_for_the_owners_steward_with_a_deadline_both_sides_see(
    setting: Setting,
) -> None:
    service, client = setting.service, setting.centre_client
    asked = await service.request(CENTRE_STEWARD, client, CONDITIONAL, ["identity_check"], BASIS, 30)
    assert asked.status == "pending" and asked.grant_id is None and not asked.overdue
    assert asked.deadline == asked.created_at + 10 * DAY
    [as_owner] = await service.requests(department="security", side="owner")
    [as_consumer] = await service.requests(department="centre", side="consumer")
    assert as_owner == as_consumer == asked
    assert (await setting.registry.client(client)).scopes == frozenset()  # type: ignore[union-attr]


async def test_the_owners_steward_approves_and_the_client_holds_the_grant(setting: Setting) -> None:
    service, client = setting.service, setting.centre_client
    asked = await service.request(CENTRE_STEWARD, client, CONDITIONAL, ["identity_check"], BASIS, 30)
    grant = await service.approve(SECURITY_STEWARD, asked.request_id)
    assert grant.granted_by == "song" and grant.request_id == asked.request_id
    answered = await service.request_record(asked.request_id)
    assert answered.status == "approved" and answered.grant_id == grant.grant_id
    read = await setting.registry.client(client)
    assert read is not None and read.grants == {"security.identity:read": frozenset({"identity_check"})}


async def test_a_refusal_gives_its_reason_and_grants_nothing(setting: Setting) -> None:
    service = setting.service
    asked = await service.request(CENTRE_STEWARD, setting.centre_client, CONDITIONAL, ["identity_check"], BASIS, 30)
    for blank in ("", "   "):
        with pytest.raises(GrantError, match="reason for the refusal is required"):
            await service.refuse(SECURITY_STEWARD, asked.request_id, blank)
    refused = await service.refuse(SECURITY_STEWARD, asked.request_id, "the legal basis does not cover identity data")
    assert refused.status == "refused" and refused.reason == "the legal basis does not cover identity data"
    assert await service.grants(client_id=setting.centre_client) == []
    with pytest.raises(Conflict, match="is refused, not pending"):
        await service.approve(SECURITY_STEWARD, asked.request_id)


async def test_a_request_unanswered_past_its_deadline_is_flagged_overdue(setting: Setting) -> None:
    service = setting.service
    asked = await service.request(CENTRE_STEWARD, setting.centre_client, CONDITIONAL, ["identity_check"], BASIS, 30)
    setting.clock.offset = 10 * DAY
    assert not (await service.request_record(asked.request_id)).overdue  # the deadline day itself
    setting.clock.offset = 10 * DAY + 1
    assert (await service.request_record(asked.request_id)).overdue
    await service.refuse(SECURITY_STEWARD, asked.request_id, "late, and no basis")
    assert not (await service.request_record(asked.request_id)).overdue  # answered


async def test_the_answer_deadline_is_configurable(setting: Setting) -> None:
    from hub.grants import GrantService
    from tests.oauth.conftest import grant_catalogue

    service = GrantService(setting.engine, grant_catalogue(), setting.clock, answer_days=20)
    asked = await service.request(CENTRE_STEWARD, setting.centre_client, CONDITIONAL, ["identity_check"], BASIS, 30)
    assert asked.deadline == asked.created_at + 20 * DAY
    with pytest.raises(GrantError, match="answer deadline is 1 to 1095 days"):
        GrantService(setting.engine, grant_catalogue(), setting.clock, answer_days=0)


async def test_the_consumers_steward_withdraws_a_pending_request(setting: Setting) -> None:
    service = setting.service
    asked = await service.request(CENTRE_STEWARD, setting.centre_client, CONDITIONAL, ["identity_check"], BASIS, 30)
    assert (await service.withdraw(CENTRE_STEWARD, asked.request_id)).status == "withdrawn"
    with pytest.raises(Conflict, match="is withdrawn, not pending"):
        await service.approve(SECURITY_STEWARD, asked.request_id)


async def test_the_operator_grants_a_conditional_scope_in_one_step(setting: Setting) -> None:
    grant = await setting.service.grant_now(
        OPERATOR, setting.centre_client, CONDITIONAL, ["identity_check"], BASIS, 30
    )
    assert grant.granted_by == "olga" and grant.live_at(setting.service.now())
    [request] = await setting.service.requests(client_id=setting.centre_client)
    assert request.status == "approved" and request.grant_id == grant.grant_id


@pytest.mark.parametrize("revoker", [OPERATOR, MARKET_STEWARD, CENTRE_STEWARD], ids=["operator", "owner", "consumer"])
async def test_a_revoked_grant_is_gone_from_the_client_at_once(setting: Setting, revoker: Actor) -> None:
    service, client = setting.service, setting.centre_client
    asked = await service.request(CENTRE_STEWARD, client, UNCONDITIONAL, ["licensing"], BASIS, 90)
    assert asked.grant_id is not None
    with pytest.raises(GrantError, match="reason for the revocation is required"):
        await service.revoke(revoker, asked.grant_id, " ")
    revoked = await service.revoke(revoker, asked.grant_id, "the licensing project ended")
    assert revoked.status == "revoked" and revoked.revoke_reason == "the licensing project ended"
    assert revoked.revoked_by == revoker.username
    assert (await setting.registry.client(client)).grants == {}  # type: ignore[union-attr]
    with pytest.raises(Conflict, match="is revoked"):
        await service.revoke(OPERATOR, asked.grant_id, "again")


async def test_the_owner_removes_a_purpose_and_only_the_rest_remain(setting: Setting) -> None:
    service, client = setting.service, setting.centre_client
    asked = await service.request(CENTRE_STEWARD, client, UNCONDITIONAL, ["licensing", "statistics"], BASIS, 90)
    assert asked.grant_id is not None
    amended = await service.amend(MARKET_STEWARD, asked.grant_id, ["statistics"], "statistics use ended")
    assert amended.purposes == {"licensing"}
    read = await setting.registry.client(client)
    assert read is not None and set(read.grants.values()) == {frozenset({"licensing"})}
    with pytest.raises(GrantError, match="names no purpose statistics"):
        await service.amend(MARKET_STEWARD, asked.grant_id, ["statistics"])
    with pytest.raises(GrantError, match="revoke .* instead"):
        await service.amend(MARKET_STEWARD, asked.grant_id, ["licensing"])
    with pytest.raises(GrantError, match="at least one purpose to remove"):
        await service.amend(MARKET_STEWARD, asked.grant_id, [])


async def test_a_grant_expires_and_recertification_extends_it_by_its_original_duration(setting: Setting) -> None:
    service, client = setting.service, setting.centre_client
    asked = await service.request(CENTRE_STEWARD, client, UNCONDITIONAL, ["licensing"], BASIS, 60)
    assert asked.grant_id is not None
    assert await service.due_for_recertification(30) == []
    setting.clock.offset = 31 * DAY
    [due] = await service.due_for_recertification(30)
    assert due.grant_id == asked.grant_id
    assert await service.due_for_recertification(30, department="security") == []
    setting.clock.offset = 60 * DAY  # valid_to is exclusive: ended
    assert (await setting.registry.client(client)).grants == {}  # type: ignore[union-attr]
    renewed = await service.recertify(MARKET_STEWARD, asked.grant_id)
    assert renewed.valid_to == renewed.valid_from + 120 * DAY
    assert set((await setting.registry.client(client)).grants) == set(UNCONDITIONAL)  # type: ignore[union-attr]
    assert await service.due_for_recertification(30) == []


async def test_listings_by_client_and_by_department_on_either_side(setting: Setting) -> None:
    service = setting.service
    ours = await service.request(CENTRE_STEWARD, setting.centre_client, UNCONDITIONAL, ["licensing"], BASIS, 90)
    theirs = await service.request(MARKET_STEWARD, setting.market_client, CONDITIONAL, ["identity_check"], BASIS, 9)
    await service.approve(SECURITY_STEWARD, theirs.request_id)
    assert [g.grant_id for g in await service.grants(client_id=setting.centre_client)] == [ours.grant_id]
    assert [g.client_id for g in await service.grants(department="market", side="owner")] == [setting.centre_client]
    assert [g.client_id for g in await service.grants(department="market")] == [setting.market_client]
    assert [r.request_id for r in await service.requests(department="security", side="owner")] == [theirs.request_id]
    assert await service.requests(department="centre", side="owner") == []
