"""Fair use in the console: the operator sets a client's limits on its page, the data owner's steward
sets a grant's quota, and everyone who may reads each client's use today against its limits; every
change is on the admin log, and nobody else may make it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hub.fairuse.counters import RedisCounters
from hub.fairuse.limits import ClientLimits
from hub.grants import Actor, GrantService, grant_catalogue
from hub.store.admin_log import admin_actions
from tests.admin.conftest import Console, argon2_once_per_password, console, sqlite_url  # noqa: F401  (fixtures)

SCOPE = "market.enterprise:read"


@pytest.fixture
def console_url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path)


def row(page: str, anchor: str) -> str:
    start = page.index(anchor)
    return page[start:page.index("</tr>", start)]


async def granted(console: Console, quota: int | None = None) -> str:  # noqa: F811
    """A grant of Market Regulation's enterprises to the ecology client (the operator's)."""
    hub = console.app.state.hub
    service = GrantService(console.registry.engine, grant_catalogue(hub.policies), hub.oauth.clock)
    grant = await service.grant_now(Actor("olga", "operator"), console.ecology_client, [SCOPE], ["licensing"], "law", 30)
    if quota is not None:
        await service.set_quota(Actor("olga", "operator"), grant.grant_id, quota)
    return grant.grant_id


async def test_the_operator_sets_a_client_s_limits_on_its_page_and_they_are_on_the_admin_log(
    console: Console,  # noqa: F811
) -> None:
    olga = await console.signed_in("olga")
    path = f"/admin/clients/{console.market_client}"
    sent = await olga.form(path, {"change": "limits", "rate": "2.5", "burst": "10", "cost_per_minute": "9000",
                                  "cost_per_day": ""})
    assert sent.status_code == 303 and sent.headers["location"].endswith("done=limits+set")
    page = (await olga.http.get(path)).text
    usage = row(page, 'id="client-usage"')
    assert "2.5/s, bursts of 10" in usage and "(defaults)" not in usage and "/ 9000" in usage and "no budget" in usage
    assert (await console.registry.client(console.market_client)).limits == ClientLimits(2.5, 10, 9000, 0)
    [entry] = await admin_actions(console.registry.engine, action="client.limits")
    assert (entry.actor, entry.role, entry.target) == ("olga", "operator", console.market_client)
    back = await olga.form(path, {"change": "limits", "rate": "1", "burst": "1", "use_defaults": "on"})
    assert back.status_code == 303
    assert "(defaults)" in row((await olga.http.get(path)).text, 'id="client-usage"')
    assert (await console.registry.client(console.market_client)).limits is None


@pytest.mark.parametrize(("fields", "message"), [
    ({"rate": "fast", "burst": "10"}, "rate must be a number"),
    ({"rate": "0", "burst": "10"}, "rate must be above 0"),
    ({"rate": "5", "burst": "1.5"}, "burst must be a whole number"),
    ({"rate": "5", "burst": "<script>alert(1)</script>"}, "burst must be a whole number"),
    ({"rate": "5", "burst": "5", "cost_per_day": "-3"}, "cost_per_day must be 0"),
    ({"rate": "5", "burst": "5", "cost_per_day": "9" * 400}, "cost_per_day must be 0"),
])
async def test_bad_limits_are_answered_on_the_page_and_change_nothing(
    console: Console, fields: dict[str, str], message: str  # noqa: F811
) -> None:
    olga = await console.signed_in("olga")
    sent = await olga.form(f"/admin/clients/{console.market_client}", {"change": "limits", **fields})
    assert sent.status_code == 400 and message in sent.text
    assert "<script>alert(1)</script>" not in sent.text
    assert (await console.registry.client(console.market_client)).limits is None
    assert await admin_actions(console.registry.engine, action="client.limits") == []


@pytest.mark.parametrize("who", ["ada", "mei", "dev"])
async def test_nobody_but_the_operator_sets_a_client_s_limits(console: Console, who: str) -> None:  # noqa: F811
    person = await console.signed_in(who)
    sent = await person.form(f"/admin/clients/{console.market_client}", {"change": "limits", "rate": "99", "burst": "99"})
    assert sent.status_code == 403
    assert (await console.registry.client(console.market_client)).limits is None


async def test_the_owner_s_steward_sets_a_grant_s_quota_and_the_consumer_reads_it(console: Console) -> None:  # noqa: F811
    grant_id = await granted(console)
    mei = await console.signed_in("mei")
    sent = await mei.form(f"/admin/grants/{grant_id}/quota", {"daily_quota": "2000", "reason": "identity checks"})
    assert sent.status_code == 303 and sent.headers["location"].endswith("done=grant.quota&grant=" + grant_id + "&quota=2000")
    eli = await console.signed_in("eli")
    assert "2000 subjects a day per scope" in row((await eli.http.get("/admin/grants")).text, f'-{grant_id}"')
    [entry] = await admin_actions(console.registry.engine, action="grant.quota")
    assert (entry.actor, entry.why, entry.details["daily_quota"]) == ("mei", "identity checks", 2000)
    lifted = await mei.form(f"/admin/grants/{grant_id}/quota", {"daily_quota": ""})
    assert lifted.status_code == 303 and "done=grant.no_quota" in lifted.headers["location"]


@pytest.mark.parametrize(("who", "status"), [("eli", 403), ("ada", 403), ("dev", 403)])
async def test_only_the_data_owner_sets_a_quota(console: Console, who: str, status: int) -> None:  # noqa: F811
    grant_id = await granted(console)
    person = await console.signed_in(who)
    sent = await person.form(f"/admin/grants/{grant_id}/quota", {"daily_quota": "5"})
    assert sent.status_code == status
    assert await admin_actions(console.registry.engine, action="grant.quota") == []


@pytest.mark.parametrize("value", ["-1", "0", "2.5", "lots", "1" * 12, "99999999"])
async def test_a_bad_quota_is_refused_with_the_reason(console: Console, value: str) -> None:  # noqa: F811
    grant_id = await granted(console)
    mei = await console.signed_in("mei")
    sent = await mei.form(f"/admin/grants/{grant_id}/quota", {"daily_quota": value})
    assert sent.status_code == 400 and "a quota is a whole number of subjects a day" in sent.text


async def test_the_usage_page_shows_each_client_s_use_today_against_its_limits(console: Console) -> None:  # noqa: F811
    await granted(console, quota=2000)
    fair_use = console.app.state.hub.fair_use
    now = time.time()
    await fair_use.counters.admit(console.ecology_client, fair_use.settings.defaults, 1234, now, fair_use.day(now),
                                  {SCOPE: (2000, 7)}, "a-request-still-running")
    await fair_use.counters.disclose(console.ecology_client, fair_use.day(now), {SCOPE: (2000, {"a", "b", "c"})})
    olga = await console.signed_in("olga")
    page = (await olga.http.get("/admin/usage")).text
    ecology = row(page, f'id="usage-{console.ecology_client}"')
    assert "50/s, bursts of 200" in ecology and "requests left now" in ecology  # refilling at 50 a second
    assert "1234 / 500000000" in ecology and f'<code class="scope">{SCOPE}</code> 3 / 2000' in ecology
    assert "+ 7 held by requests running and replicas' leases" in ecology and "counts as used" in page
    assert "no quota" in row(page, f'id="usage-{console.market_client}"')


async def test_a_steward_sees_the_use_of_their_own_department_s_clients_only(console: Console) -> None:  # noqa: F811
    await granted(console, quota=2000)
    fair_use = console.app.state.hub.fair_use
    now = time.time()
    await fair_use.counters.admit(console.ecology_client, fair_use.settings.defaults, 77, now, fair_use.day(now))
    await fair_use.counters.disclose(console.ecology_client, fair_use.day(now), {SCOPE: (2000, {"a", "b"})})
    eli = await console.signed_in("eli")  # the requesting department's steward: its own consumption
    page = (await eli.http.get("/admin/usage")).text
    assert f'id="usage-{console.ecology_client}"' in page and console.market_client not in page
    ecology = row(page, f'id="usage-{console.ecology_client}"')
    assert "77 / 500000000" in ecology and f'<code class="scope">{SCOPE}</code> 2 / 2000' in ecology
    dev = await console.signed_in("dev")
    assert (await dev.http.get("/admin/usage")).status_code == 403


async def test_the_usage_page_says_so_when_the_counters_cannot_be_read(console: Console) -> None:  # noqa: F811
    fair_use = console.app.state.hub.fair_use
    await fair_use.counters.aclose()
    fair_use.counters = RedisCounters("redis://127.0.0.1:9/0")  # the discard port: nothing listens
    olga = await console.signed_in("olga")
    page = (await olga.http.get("/admin/usage")).text
    assert "The shared counters cannot be read right now." in row(page, f'id="usage-{console.market_client}"')


async def test_the_catalogue_export_carries_the_default_limits_and_each_client_s_own_and_its_quotas(
    console: Console,  # noqa: F811
) -> None:
    await granted(console, quota=2000)
    await console.registry.set_limits(console.market_client, ClientLimits(3.0, 9, 100, 0))
    dev = await console.signed_in("dev")
    fair_use = (await dev.http.get("/admin/catalogue.json")).json()["fair_use"]
    assert fair_use["defaults"] == {"rate": 50.0, "burst": 200, "cost_per_minute": 5_000_000, "cost_per_day": 500_000_000}
    assert fair_use["day_starts_at_utc_offset_minutes"] == 480
    assert fair_use["clients"] == sorted([
        {"client_id": console.market_client, "department": "market",
         "limits": {"rate": 3.0, "burst": 9, "cost_per_minute": 100, "cost_per_day": 0}, "daily_subject_quotas": {}},
        {"client_id": console.ecology_client, "department": "ecology", "limits": None,
         "daily_subject_quotas": {SCOPE: 2000}},
    ], key=lambda c: c["client_id"])
