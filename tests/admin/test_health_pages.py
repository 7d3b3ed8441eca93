"""The sources' health page: operators and auditors see every source, a steward their department's."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.source_health import SourceHealth
from tests.admin.conftest import Console, sqlite_url


@pytest.fixture
def console_url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path)


def health(console: Console) -> SourceHealth:
    found: SourceHealth = console.app.state.hub.sources.health
    return found


async def test_an_operator_sees_each_sources_state_latency_errors_and_last_failure(console: Console) -> None:
    for ms in (10, 20, 30, 40):
        health(console).called("market", ms / 1000)
    health(console).cached("market", 3, 1)
    for _ in range(3):
        health(console).called("ecology", 2.0, "provider", "ecology: provider failed: connection refused")
    page = (await (await console.signed_in("olga")).http.get("/admin/health")).text
    market = page.split('id="source-market"')[1].split("</tr>")[0]
    ecology = page.split('id="source-ecology"')[1].split("</tr>")[0]
    assert "state-up" in market and "20.0 / 40.0 / 40.0" in market and "0.0%" in market and "75.0%" in market
    assert "state-down" in ecology and "100.0%" in ecology and "side-provider" in ecology
    assert "connection refused" in ecology and "CST" in ecology


async def test_the_page_speaks_chinese_to_an_account_that_has_not_chosen_english(console: Console) -> None:
    health(console).called("market", 3.0)
    page = (await (await console.signed_in("olga", language="zh")).http.get("/admin/health")).text
    assert "数据源健康状况" in page and "较慢" in page and "Slow" not in page


async def test_a_steward_sees_only_their_own_departments_sources(console: Console) -> None:
    page = (await (await console.signed_in("eli")).http.get("/admin/health")).text
    assert 'id="source-ecology"' in page and 'id="source-market"' not in page


async def test_an_auditor_reads_every_source(console: Console) -> None:
    page = await (await console.signed_in("ada")).http.get("/admin/health")
    assert page.status_code == 200 and 'id="source-market"' in page.text and 'id="source-ecology"' in page.text


async def test_a_developer_is_refused_and_a_signed_out_visitor_sent_to_sign_in(console: Console) -> None:
    refused = await (await console.signed_in("dev")).http.get("/admin/health")
    assert refused.status_code == 403 and "source-market" not in refused.text
    signed_out = await console.person().http.get("/admin/health")
    assert signed_out.status_code == 303 and signed_out.headers["location"].startswith("/admin/signin")


async def test_a_failure_reason_is_shown_as_text_never_as_markup(console: Console) -> None:
    health(console).called("market", 0.1, "provider", '<script src="https://evil.example/x.js"></script>')
    page = (await (await console.signed_in("olga")).http.get("/admin/health")).text
    assert "<script src=" not in page and "&lt;script" in page
