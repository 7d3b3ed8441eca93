"""The overview and the sources' health in a real Chromium, in Chinese and in English: real
disclosures drawn as plots that fit their cards, no English left on the Chinese pages, and nothing
the CSP refuses (no inline script or style) nor anything loaded from elsewhere.
Screenshots: ``tests/artifacts/admin-overview-{zh,en}.png``, ``admin-health-{zh,en}.png``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import Account, serving_console, shot, sign_in

pytestmark = pytest.mark.browser

PASSWORD = "operator's long password"
# What a Chinese page may show in Latin letters: codes and names, never a sentence.
CODES = re.compile(r"^(market|ecology|security|anonymous|CST|UTC|p50|p95|p99|TOTP|GraphiQL|English|Olga|Operator|"
                   r"Mei|Steward|ok|refused|rejected|invalid|timeout|unrecorded)$")


@pytest.fixture(scope="module")
def overview_hub(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    people: list[Account] = [("olga", "Olga Operator", "operator", PASSWORD, None),
                             ("mei", "Mei Steward", "steward", PASSWORD, "market")]
    with serving_console(demo_data_dir, tmp_path_factory.mktemp("overview-state"), people,
                         anonymous_access=True) as (url, _):
        with httpx.Client(base_url=url, timeout=30) as http:
            for _ in range(3):
                answer = http.post("/graphql", json={"query": "{ enterprises(first: 3) { edges { node { uscc name } } } }"})
                assert answer.status_code == 200, answer.text
        yield url


def watched(page: Any) -> list[str]:
    """Everything the page's CSP refused or asked of another host, as it happens."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("request", lambda r: problems.append(r.url) if not r.url.startswith(("http://127.0.0.1", "data:")) else None)
    return problems


def english_words(page: Any) -> set[str]:
    """Latin words the page shows outside ``<code>`` (ids, scopes and a source's own error text are data)."""
    text = page.evaluate(
        "() => { const b = document.body.cloneNode(true); b.querySelectorAll('code').forEach(c => c.remove());"
        " document.documentElement.appendChild(b); const t = b.innerText; b.remove(); return t; }"
    )
    return {w for w in re.findall(r"[A-Za-z][A-Za-z-]{2,}", text) if not CODES.match(w) and "-" not in w}


def plots_fit(page: Any) -> None:
    for section in ("#per-hour", "#per-day"):
        card = page.locator(section).bounding_box()
        plot = page.locator(f"{section} svg.chart").bounding_box()
        assert plot["width"] > 300 and plot["height"] > 80
        assert card["x"] <= plot["x"] and plot["x"] + plot["width"] <= card["x"] + card["width"] + 0.5
        assert plot["y"] + plot["height"] <= card["y"] + card["height"] + 0.5


def test_an_operator_reads_the_overview_in_chinese_with_plots_that_fit(page: Any, overview_hub: str) -> None:
    from playwright.sync_api import expect

    problems = watched(page)
    sign_in(page, overview_hub, "olga", PASSWORD, "/admin/", language="zh")
    expect(page.locator("h1")).to_have_text("总览")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("#per-clients")).to_contain_text("anonymous")
    expect(page.locator("#per-hour svg.chart rect.bar")).to_have_count(24)
    plots_fit(page)
    shot(page, "overview-zh")
    assert english_words(page) == set()
    page.goto(f"{overview_hub}/admin/health")
    expect(page.locator("h1")).to_have_text("数据源健康状况")
    expect(page.locator("#source-market .state")).to_have_text("正常")
    shot(page, "health-zh")
    assert english_words(page) == set()
    assert problems == []


def test_the_switch_turns_the_same_pages_to_english(page: Any, overview_hub: str) -> None:
    from playwright.sync_api import expect

    problems = watched(page)
    sign_in(page, overview_hub, "olga", PASSWORD, "/admin/", language="zh")
    page.locator("form.languages button[value=en]").click()
    expect(page.locator("h1")).to_have_text("Overview")
    expect(page.locator("#per-day h2")).to_have_text("Disclosures per day, last 30 days (CST)")
    plots_fit(page)
    shot(page, "overview-en")
    page.goto(f"{overview_hub}/admin/health")
    expect(page.locator("#source-market .state")).to_have_text("up")
    shot(page, "health-en")
    page.locator("form.languages button[value=zh]").click()  # leave the account as it was
    expect(page.locator("h1")).to_have_text("数据源健康状况")
    assert problems == []


def test_a_steward_sees_their_departments_overview_and_sources(page: Any, overview_hub: str) -> None:
    from playwright.sync_api import expect

    sign_in(page, overview_hub, "mei", PASSWORD, "/admin/")
    expect(page.locator("h1")).to_have_text("Overview · market")
    page.goto(f"{overview_hub}/admin/health")
    expect(page.locator("#source-market")).to_have_count(1)
    expect(page.locator("#source-ecology")).to_have_count(0)
    shot(page, "health-steward")
