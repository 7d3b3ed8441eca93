"""The overview: what operators, auditors and stewards land on, drawn from the audit's hourly usage,
the grant tables, the chain since its last seal and the hub's refusal counters."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import pytest

from hub.admin.overview_data import ChainWatch
from hub.audit import AuditStore
from tests.admin.conftest import Console, sqlite_url
from tests.audit.conftest import disclosure


@pytest.fixture
def console_url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path)


def ago(**delta: float) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def record(console: Console, client: str, *times: str) -> AuditStore:
    """Real disclosure records (two subjects each) by ``client`` at ``times``."""
    store: AuditStore = console.app.state.hub.disclosures.store
    for n, time in enumerate(times, 1):
        await store.append(dataclasses.replace(disclosure(store, n, client=client), time=time))
    return store


def row(page: str, section: str, key: str) -> list[int]:
    part = page.split(f'id="per-{section}"')[1].split("</section>")[0]
    cells = part.split(f"<code>{key}</code>")[1].split("</tr>")[0]
    return [int(n) for n in re.findall(r'class="number">(\d+)<', cells)]


async def test_an_operator_lands_on_requests_and_disclosures_per_department_and_client(console: Console) -> None:
    await record(console, "market-a1", ago(hours=1), ago(hours=2), ago(days=3), ago(days=45))
    await record(console, "ecology-b1", ago(minutes=5))
    page = (await (await console.signed_in("olga")).http.get("/admin/")).text
    assert "<h1>Overview</h1>" in page
    assert row(page, "departments", "market") == [2, 4, 3, 6]  # 24 h: requests, disclosures; 30 days
    assert row(page, "clients", "ecology-b1") == [1, 2, 1, 2]
    assert row(page, "clients", "market-a1") == [2, 4, 3, 6]  # the record 45 days old is left out


async def test_each_plot_is_svg_drawn_on_the_server_beside_a_table_of_its_numbers(console: Console) -> None:
    await record(console, "market-a1", ago(hours=1))
    page = (await (await console.signed_in("ada")).http.get("/admin/")).text
    hours = page.split('id="per-hour"')[1].split("</section>")[0]
    assert hours.count('<rect class="bar"') == 24 and 'role="img"' in hours
    assert len(re.findall(r"<tr><td>\d\d-\d\d \d\d:00</td>", hours)) == 24
    days = page.split('id="per-day"')[1].split("</section>")[0]
    assert days.count('<rect class="bar"') == 30 and "· 2 disclosures</title>" in days
    assert "style=" not in page and "<script" not in page  # within the CSP


async def test_a_steward_sees_only_their_departments_clients(console: Console) -> None:
    await record(console, "market-a1", ago(hours=1))
    await record(console, "ecology-b1", ago(hours=1))
    page = (await (await console.signed_in("eli")).http.get("/admin/")).text
    assert "<h1>Overview · ecology</h1>" in page
    assert "ecology-b1" in page and "market-a1" not in page


async def test_a_developer_keeps_their_own_start_page(console: Console) -> None:
    page = (await (await console.signed_in("dev")).http.get("/admin/")).text
    assert "Welcome, Dev Developer" in page and 'id="per-hour"' not in page


def chain_watch(console: Console) -> ChainWatch:
    admin = next(route.app for route in console.app.routes if getattr(route, "path", "") == "/admin")
    found: ChainWatch = admin.console.chain_watch
    return found


def chain_tile(page: str) -> str:
    return page.split('id="tile-chain"')[1].split("</div>")[0]


async def test_the_chain_tile_shows_the_last_check_since_the_last_seal_and_renews_it_off_the_page(
    console: Console,
) -> None:
    olga = await console.signed_in("olga")
    assert "audit chain: no seal yet" in chain_tile((await olga.http.get("/admin/")).text)
    store = await record(console, "market-a1", ago(hours=1), ago(hours=1))
    await store.seal()
    await record(console, "market-a1", ago(minutes=1))
    watch = chain_watch(console)
    assert "no seal yet" in chain_tile((await olga.http.get("/admin/")).text)  # checked under a minute ago
    watch.every = 0
    assert "no seal yet" in chain_tile((await olga.http.get("/admin/")).text)  # stale: shown, a check started
    assert watch._checking is not None
    await watch._checking
    tile = chain_tile((await olga.http.get("/admin/")).text)
    assert "audit chain intact since the last seal" in tile and "last seal at seq 2" in tile and "3 records" in tile
    assert "checked " in tile and "CST" in tile


async def test_grant_requests_waiting_and_overdue_are_counted(console: Console) -> None:
    eli = await console.signed_in("eli")  # ecology asks market for a conditional scope
    asked = await eli.api("POST", "/grant-requests", {
        "client_id": console.ecology_client, "scopes": ["market.finance:read"],
        "purposes": ["licensing"], "legal_basis": "Regulation 7", "duration_days": 30,
    })
    assert asked.status_code in (200, 201), asked.text
    page = (await (await console.signed_in("mei")).http.get("/admin/")).text  # the owner's steward
    tile = page.split('id="tile-waiting"')[1].split("</a>")[0]
    assert '<span class="figure">1</span>' in tile and "0 overdue" in tile
    assert asked.json()["request_id"] in page.split('id="grant-work"')[1]


async def test_refusals_are_counted_by_kind(console: Console) -> None:
    console.app.state.hub.metrics.requests.labels("refused").inc(3)
    console.app.state.hub.metrics.requests.labels("ok").inc(9)
    page = (await (await console.signed_in("olga", language="zh")).http.get("/admin/")).text
    refusals = page.split('id="refusals"')[1].split("</section>")[0]
    assert "<code>refused</code>" in refusals and ">3<" in refusals and "<code>ok</code>" not in refusals
    assert "按类型统计的拒绝" in refusals


async def test_the_overview_speaks_chinese_and_its_plots_too(console: Console) -> None:
    await record(console, "market-a1", ago(hours=1))
    page = (await (await console.signed_in("olga", language="zh")).http.get("/admin/")).text
    assert "<h1>总览</h1>" in page and "最近 24 小时每小时请求数（北京时间）" in page
    assert 'aria-label="最近 24 小时每小时请求数（北京时间）"' in page and "次披露</title>" in page


async def test_a_steward_sees_their_own_clients_refusals_only(console: Console) -> None:
    hub = console.app.state.hub
    hub.metrics.requests.labels("refused").inc(5)  # the whole hub's: no client to tell
    hub.fair_use.metrics.refusals.labels(console.market_client, "rate").inc(2)
    hub.fair_use.metrics.refusals.labels(console.ecology_client, "cost_per_day").inc(7)
    page = (await (await console.signed_in("mei")).http.get("/admin/")).text
    mine = page.split('id="refusals"')[1].split("</section>")[0]
    assert "<code>rate</code>" in mine and ">2<" in mine
    assert "cost_per_day" not in mine and "<code>refused</code>" not in mine and ">7<" not in mine
    everyone = (await (await console.signed_in("olga")).http.get("/admin/")).text.split('id="refusals"')[1]
    assert "<code>refused</code>" in everyone and "<code>cost_per_day</code>" in everyone


async def test_every_number_of_the_overview_is_the_count_of_the_records_in_the_log(console: Console) -> None:
    """Forty records at random times over 40 days by three clients of two departments: each hour's
    and day's row of the tables beside the plots, and each client's and department's totals, are
    what counting the records themselves gives (China Standard Time days; the last 24 hours)."""
    import random

    pick = random.Random(18)
    clients = ("market-a1", "market-a2", "ecology-b1")
    now = dt.datetime.now(dt.UTC)
    made: list[tuple[str, dt.datetime]] = []
    for _ in range(40):
        client, at = pick.choice(clients), now - dt.timedelta(seconds=pick.uniform(0, 40 * 86_400))
        made.append((client, at))
        await record(console, client, at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    page = (await (await console.signed_in("ada")).http.get("/admin/")).text

    cst = dt.timezone(dt.timedelta(hours=8))
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    today = now.astimezone(cst).date()
    hours: dict[str, list[int]] = {(this_hour - dt.timedelta(hours=n)).astimezone(cst).strftime("%m-%d %H:00"): [0, 0]
                                   for n in range(24)}
    days: dict[str, list[int]] = {(today - dt.timedelta(days=n)).isoformat(): [0, 0] for n in range(30)}
    totals: dict[str, list[int]] = {}
    for client, at in made:
        hour = at.replace(minute=0, second=0, microsecond=0).astimezone(cst).strftime("%m-%d %H:00")
        recent, day = hour in hours, at.astimezone(cst).date().isoformat()
        for key in (client, client.split("-")[0]):
            counts = totals.setdefault(key, [0, 0, 0, 0])
            if recent:
                counts[0], counts[1] = counts[0] + 1, counts[1] + 2  # two subjects a record
            if day in days:
                counts[2], counts[3] = counts[2] + 1, counts[3] + 2
        if recent:
            hours[hour][0] += 1
            hours[hour][1] += 2
        if day in days:
            days[day][0] += 1
            days[day][1] += 2

    def table(section: str) -> dict[str, list[int]]:
        part = page.split(f'id="{section}"')[1].split("</section>")[0]
        return {key: [int(a), int(b)] for key, a, b in re.findall(
            r'<tr><td>([\d: -]+)</td><td class="number">(\d+)</td><td class="number">(\d+)</td></tr>', part)}

    assert table("per-hour") == hours
    assert table("per-day") == days
    for key, counts in totals.items():
        if counts[2]:
            assert row(page, "clients" if "-" in key else "departments", key) == counts, key
