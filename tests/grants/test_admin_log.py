"""Every grant change leaves one admin action (who, role, what, target, why, when); the log is
read newest first, filtered by actor, action, target and time."""

from __future__ import annotations

from hub.store.admin_log import admin_actions, record_action
from tests.grants.conftest import CENTRE_STEWARD, DAY, MARKET_STEWARD, SECURITY_STEWARD, Setting

BASIS = "a legal basis"


async def test_each_change_is_on_the_log_with_who_what_why_and_when(setting: Setting) -> None:
    service, client, clock = setting.service, setting.centre_client, setting.clock
    granted = await service.request(CENTRE_STEWARD, client, ["market.enterprise:read"], ["licensing", "statistics"], BASIS, 30)
    pending = await service.request(CENTRE_STEWARD, client, ["security.identity:read"], ["identity_check"], BASIS, 30)
    assert granted.grant_id is not None
    clock.offset = DAY
    await service.refuse(SECURITY_STEWARD, pending.request_id, "no legal basis for identity data")
    await service.amend(MARKET_STEWARD, granted.grant_id, ["statistics"], "not needed")
    await service.recertify(MARKET_STEWARD, granted.grant_id)
    await service.revoke(CENTRE_STEWARD, granted.grant_id, "system retired")
    log = await service.admin_log()
    assert [(a.action, a.actor, a.role) for a in log] == [
        ("grant.revoke", "chen", "steward"),
        ("grant.recertify", "ma", "steward"),
        ("grant.amend", "ma", "steward"),
        ("grant.refuse", "song", "steward"),
        ("grant.request", "chen", "steward"),
        ("grant.grant", "chen", "steward"),
        ("grant.request", "chen", "steward"),
    ]
    revoke, recertify, amend, refuse = log[:4]
    assert revoke.target == granted.grant_id and revoke.why == "system retired" and revoke.at == clock.now()
    assert refuse.target == pending.request_id and refuse.why == "no legal basis for identity data"
    assert amend.details == {"removed": ["statistics"], "purposes": ["licensing"]}
    assert recertify.details["valid_to"] == recertify.details["valid_to_before"] + 30 * DAY
    assert log[-1].details["scopes"] == ["market.enterprise:read"] and log[-1].details["legal_basis"] == BASIS


async def test_the_log_is_filtered_by_actor_action_target_and_time(setting: Setting) -> None:
    service, client = setting.service, setting.centre_client
    first = await service.request(CENTRE_STEWARD, client, ["security.identity:read"], ["identity_check"], BASIS, 30)
    setting.clock.offset = 2 * DAY
    await service.approve(SECURITY_STEWARD, first.request_id)
    start = setting.clock.now() - 2 * DAY
    assert [a.action for a in await service.admin_log(actor="song")] == ["grant.approve"]
    assert [a.actor for a in await service.admin_log(action="grant.request")] == ["chen"]
    assert len(await service.admin_log(target=first.request_id)) == 2
    assert [a.action for a in await service.admin_log(since=start + DAY)] == ["grant.approve"]
    assert [a.action for a in await service.admin_log(until=start + DAY)] == ["grant.request"]
    assert len(await service.admin_log(limit=1)) == 1
    assert await service.admin_log(actor="nobody") == []


async def test_an_action_recorded_in_a_rolled_back_transaction_is_not_kept(setting: Setting) -> None:
    """The log shares the change's transaction: no record of a change that did not happen."""
    from sqlalchemy.ext.asyncio import AsyncSession

    class Abandoned(Exception):
        pass

    try:
        async with AsyncSession(setting.engine) as session, session.begin():
            await record_action(session, actor="olga", role="operator", action="registry.disable",
                                target="centre", why="test", details={})
            raise Abandoned
    except Abandoned:
        pass
    async with setting.engine.begin() as conn:
        await record_action(conn, actor="olga", role="operator", action="registry.enable",
                            target="centre", why=None, details={"k": 1})
    [kept] = await admin_actions(setting.engine)
    assert (kept.action, kept.why, kept.details) == ("registry.enable", None, {"k": 1})
