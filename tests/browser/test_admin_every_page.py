"""Every page of the console in a real Chromium, in Chinese and in English, for the role that uses it:
sign-in, overview, health, departments, clients, a client and its limits, accounts, grants (list,
request, the owner's inbox), usage, the admin log, the catalogue, the audit (search, a record, the
chain, who accessed a subject), your account, password and TOTP, the developer's clients and
GraphiQL page, and the pages that refuse or find nothing.

On each page: the ``lang`` the page declares; on a Chinese page no English word left in what it
shows (its text, its form controls' options and visible attributes), save an allow-list of codes,
identifiers and names; nothing wider than the window, no table wider than the page's main column,
the overview's plots inside their cards; nothing the CSP refuses (no inline script or style) nor
anything asked of another host. Then the changes people make, in Chinese: a refused and an approved
grant request, a bad and a good department registration, each answered in Chinese.

Screenshots: ``tests/artifacts/admin-page-<language>-<page>.png`` (and ``admin-page-zh-do-*``).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.accounts.store import Accounts
from hub.accounts.credentials import new_totp_secret
from hub.app import create_app
from hub.client import new_client_key
from hub.demo.services import serve_in_thread
from hub.grants import Actor, GrantService, load_grant_catalogue
from hub.settings import Settings, load_settings
from hub.store import Registry, connect, migrate
from tests.browser.conftest import ARTIFACTS, free_port, in_thread

pytestmark = pytest.mark.browser

PASSWORD = "a long password for every page"
PEOPLE = {  # username -> (display name, role, department)
    "olga": ("Olga", "operator", None),
    "tess": ("Tess", "auditor", None),  # with a second factor
    "mei": ("Mei", "steward", "market"),
    "eli": ("Eli", "steward", "ecology"),
    "ada": ("Ada", "auditor", None),
    "dev": ("Dev", "developer", "market"),
}
OPERATOR = Actor("olga", "operator")
# What a Chinese page may show in Latin letters: codes, identifiers, standards and names (the
# people's names above, departments' and sources' ids, scopes' parts, formats and protocols).
ALLOWED = {
    "Olga", "Mei", "Eli", "Ada", "Dev", "Tess", "olga", "mei", "eli", "ada", "dev", "tess",
    "market", "ecology", "housing", "licensing", "permits", "inspection", "anonymous", "enterprise", "finance",
    "read", "English", "TOTP", "GraphiQL", "JSON", "CSV", "JWK", "USCC", "MAC", "CST", "UTC", "ID", "URI",
    "kid", "EC", "P-256", "otpauth", "hub", "graphiql", "install", "p50", "p95", "p99", "ok", "KB", "min",
    "ms", "seq", "zh", "en", "centre", "security", "taxation", "development", "transport", "limit", "abc",
    "nowhere", "statistics", "supervision", "errors", "GB",
}
LATIN = re.compile(r"(?<![\w.:/-])[A-Za-z][A-Za-z'-]*[A-Za-z](?![\w.:/-])")

# The JavaScript that reads what a page shows: its text outside <code> and GraphiQL's own
# interface (a developer tool, in English), its controls' options and visible attributes.
SHOWN = """() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('code, #graphiql, script, style').forEach(e => e.remove());
  document.documentElement.appendChild(body);
  const text = [body.innerText];
  body.remove();
  document.querySelectorAll('option').forEach(o => text.push(o.textContent));
  document.querySelectorAll('[placeholder], [title], [aria-label], [alt]').forEach(e => {
    if (e.closest('#graphiql')) return;
    for (const name of ['placeholder', 'title', 'aria-label', 'alt']) if (e.getAttribute(name)) text.push(e.getAttribute(name));
  });
  document.querySelectorAll('input[type=submit], input[type=button]').forEach(e => text.push(e.value));
  return text.join('\\n');
}"""
# Where the page is wider than it should be: the document than the window, a table than <main>,
# a plot than its card.
OVERFLOW = """() => {
  const found = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1) found.push(`page ${root.scrollWidth} > ${root.clientWidth}`);
  const main = document.querySelector('main').getBoundingClientRect();
  document.querySelectorAll('main table').forEach((t, i) => {
    const box = t.getBoundingClientRect();
    if (box.right > main.right + 1 || box.left < main.left - 1) found.push(`table ${t.id || t.className || i} ${box.left}-${box.right} outside ${main.left}-${main.right}`);
  });
  document.querySelectorAll('svg.chart').forEach(svg => {
    const card = svg.closest('section, .card') || svg.parentElement;
    const a = svg.getBoundingClientRect(), b = card.getBoundingClientRect();
    if (a.right > b.right + 0.5 || a.bottom > b.bottom + 0.5 || a.width < 200) found.push(`plot in ${card.id} ${JSON.stringify(a)}`);
  });
  return found;
}"""


@dataclass
class Hub:
    base: str
    settings: Settings
    market_client: str
    ecology_client: str
    pending: str


def _assets_dir() -> Path:
    return load_settings(environment="development").graphiql_assets_dir


async def _seed(settings: Settings) -> tuple[str, str, str]:
    engine = connect(settings.registry_url)
    try:
        await migrate(engine)
        registry, accounts = Registry(engine), Accounts(engine)
        await registry.add_department("market", "市场监督管理局", "1302")
        await registry.add_department("ecology", "生态环境局")
        public = {k: v for k, v in new_client_key().items() if k != "d"}
        market = await registry.register_client("market", "营业执照审批系统", public)
        ecology = await registry.register_client("ecology", "排污许可系统", public)
        grants = GrantService(engine, load_grant_catalogue(settings.policies_dir))
        await grants.grant_now(OPERATOR, market.client_id, {"market.enterprise:read"}, ("licensing",), "依法履职", 30)
        await grants.grant_now(OPERATOR, ecology.client_id, {"market.enterprise:read"}, ("permits",), "依法履职", 20)
        asked = await grants.request(Actor("eli", "steward", "ecology"), ecology.client_id, ["market.finance:read"],
                                     ["permits"], "《排污许可管理条例》第十二条", 180)
        for username, (name, role, department) in PEOPLE.items():
            clients = frozenset({market.client_id}) if role == "developer" else frozenset()
            await accounts.create(username, name, role, PASSWORD, department, clients)
        await accounts.set_totp("tess", new_totp_secret())
        return market.client_id, ecology.client_id, asked.request_id
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def hub(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    port = free_port()
    settings = load_settings(
        environment="development", port=port, demo_data_dir=demo_data_dir, anonymous_access=True,
        state_dir=tmp_path_factory.mktemp("every-page-state"), graphiql_assets_dir=_assets_dir(),
    )
    market, ecology, pending = in_thread(lambda: _seed(settings))
    with serve_in_thread(create_app(settings), port=port) as running:
        with httpx.Client(base_url=running.url, timeout=30) as http:
            for _ in range(3):  # disclosures for the overview, the usage and the audit
                answer = http.post("/graphql", json={"query": "{ enterprises(first: 3) { edges { node { uscc name } } } }"})
                assert answer.status_code == 200, answer.text
        yield Hub(running.url, settings, market, ecology, pending)


@pytest.fixture
def watched_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[tuple[Any, list[str]]]:
    """A page in a browser that asks for the test's language, and what the CSP refused or was asked
    of another host, as it happens."""
    language = request.node.callspec.params.get("language", "zh") if hasattr(request.node, "callspec") else "zh"
    context = browser.new_context(viewport={"width": 1280, "height": 860},
                                  locale="zh-CN" if language == "zh" else "en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("request", lambda r: problems.append(r.url)
            if not r.url.startswith(("http://127.0.0.1", "data:", "blob:")) else None)
    try:
        yield page, problems
    finally:
        context.close()


def enter(page: Any, base: str, username: str, language: str) -> None:
    """Signs in by typing, in the sign-in page's ``language``, and leaves the account in it."""
    from playwright.sync_api import expect

    page.goto(f"{base}/admin/signin")
    page.locator(f"form.languages button[value={language}]").click()
    labels = ("用户名", "密码", "登录") if language == "zh" else ("Username", "Password", "Sign in")
    page.get_by_label(labels[0]).press_sequentially(username)
    page.get_by_label(labels[1]).press_sequentially(PASSWORD)
    page.get_by_role("button", name=labels[2], exact=True).click()
    expect(page.locator(".bar .who")).to_be_visible()
    page.locator(f"form.languages button[value={language}]").click()  # the account's language
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans" if language == "zh" else "en")


def leave(page: Any, base: str, language: str) -> None:
    page.goto(f"{base}/admin/")
    page.get_by_role("button", name="退出" if language == "zh" else "Sign out").click()
    page.wait_for_url(f"{base}/admin/signin")


def english_left(page: Any) -> set[str]:
    return {w for w in LATIN.findall(page.evaluate(SHOWN)) if w not in ALLOWED}


def look(page: Any, language: str, name: str, findings: list[str]) -> None:
    """The checks every page gets, and its screenshot; what is wrong is added to ``findings``."""
    lang = page.locator("html").get_attribute("lang")
    if lang != ("zh-Hans" if language == "zh" else "en"):
        findings.append(f"{name}: lang={lang}")
    if language == "zh":
        left = english_left(page)
        if left:
            findings.append(f"{name}: English left: {sorted(left)}")
    for problem in page.evaluate(OVERFLOW):
        findings.append(f"{name}: {problem}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"admin-page-{language}-{name}.png"), full_page=True)


def visit(page: Any, base: str, path: str, language: str, name: str, findings: list[str], status: int = 200) -> None:
    answer = page.goto(f"{base}{path}")
    if answer is None or answer.status != status:
        findings.append(f"{name}: {path} answered {answer.status if answer else None}, not {status}")
    look(page, language, name, findings)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_page_in_both_languages(watched_page: tuple[Any, list[str]], hub: Hub, language: str) -> None:
    page, problems = watched_page
    base, findings = hub.base, []
    visit(page, base, "/admin/signin", language, "signin", findings)

    enter(page, base, "olga", language)
    for path, name in [
        ("/admin/", "overview"), ("/admin/health", "health"), ("/admin/departments", "departments"),
        ("/admin/clients", "clients"), (f"/admin/clients/{hub.market_client}", "client"),
        ("/admin/accounts", "accounts"), ("/admin/grants", "grants"), ("/admin/usage", "usage"),
        ("/admin/admin-log", "admin-log"), ("/admin/catalogue", "catalogue"),
        ("/admin/catalogue?department=market", "catalogue-market"), ("/admin/audit", "audit"),
        ("/admin/audit/records/1", "audit-record"), ("/admin/audit/chain", "audit-chain"),
        ("/admin/audit/who", "audit-who"), ("/admin/account", "account"),
        ("/admin/account/password", "password"), ("/admin/account/totp", "totp-enrol"),
    ]:
        visit(page, base, path, language, name, findings)
    visit(page, base, "/admin/nowhere", language, "not-found", findings, status=404)
    visit(page, base, "/admin/catalogue?department=nowhere", language, "catalogue-unknown", findings, status=400)
    leave(page, base, language)

    enter(page, base, "ada", language)
    page.goto(f"{base}/admin/audit/who")
    uscc = _an_enterprise(hub.settings.demo_data_dir)
    page.locator("input[name=identifier]").fill(uscc)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    look(page, language, "audit-who-found", findings)
    page.goto(f"{base}/admin/audit")
    page.locator("input[name=purpose]").fill("licensing")
    page.locator("main form.search button[type=submit]").click()
    page.wait_for_load_state()
    look(page, language, "audit-searched", findings)
    visit(page, base, "/admin/audit?limit=abc", language, "audit-bad-search", findings, status=400)
    visit(page, base, "/admin/departments/market/status", language, "not-with-get", findings, status=405)
    if not page.locator(".bar .who").is_visible():
        findings.append("not-with-get: the bar lost the signed-in person")
    leave(page, base, language)

    enter(page, base, "eli", language)
    for path, name in [("/admin/", "steward-overview"), ("/admin/grants", "steward-grants"),
                       ("/admin/grants/request", "grant-request"), ("/admin/health", "steward-health"),
                       ("/admin/usage", "steward-usage")]:
        visit(page, base, path, language, name, findings)
    visit(page, base, "/admin/accounts", language, "forbidden", findings, status=403)
    leave(page, base, language)

    enter(page, base, "dev", language)
    visit(page, base, "/admin/developer", language, "developer", findings)
    visit(page, base, f"/admin/developer/graphiql?client_id={hub.market_client}&purpose=licensing", language,
          "developer-graphiql", findings)
    visit(page, base, f"/admin/developer/graphiql?client_id={hub.ecology_client}&purpose=licensing", language,
          "developer-not-yours", findings, status=403)
    leave(page, base, language)

    page.goto(f"{base}/admin/signin")  # an account with a second factor: the code page, and a wrong code
    labels = ("用户名", "密码", "登录", "验证码", "继续") if language == "zh" else (
        "Username", "Password", "Sign in", "Code", "Continue")
    page.get_by_label(labels[0]).press_sequentially("tess")
    page.get_by_label(labels[1]).press_sequentially(PASSWORD)
    page.get_by_role("button", name=labels[2], exact=True).click()
    page.wait_for_url(f"{base}/admin/signin/totp")
    look(page, language, "signin-totp", findings)
    page.get_by_label(labels[3]).press_sequentially("000000")
    page.get_by_role("button", name=labels[4]).click()
    page.wait_for_load_state()
    look(page, language, "signin-totp-wrong", findings)
    assert findings == [], "\n".join(findings)
    assert problems == []


def _an_enterprise(demo_data_dir: Path) -> str:
    with sqlite3.connect(demo_data_dir / "market.sqlite") as conn:
        return str(conn.execute("SELECT uscc FROM enterprises ORDER BY uscc LIMIT 1").fetchone()[0])


def test_what_people_do_is_answered_in_chinese(watched_page: tuple[Any, list[str]], hub: Hub) -> None:
    """A steward asks for a conditional scope with the form, the owner refuses it with a reason, then
    approves a second one; the operator registers a department (a bad name first) and blocks it:
    every answer and every error in Chinese."""
    from playwright.sync_api import expect

    page, problems = watched_page
    base, findings = hub.base, []

    def answered(name: str, text: str, role: str = "status") -> None:
        expect(page.get_by_role(role)).to_contain_text(text)
        look(page, "zh", f"do-{name}", findings)

    def ask(purposes: str) -> str:
        page.goto(f"{base}/admin/grants/request")
        page.get_by_label("客户端").select_option(hub.ecology_client)
        page.locator('input[name="scope"][value="market.finance:read"]').check()
        page.get_by_label("用途").press_sequentially(purposes)
        page.get_by_label("法律依据").press_sequentially("《排污许可管理条例》第十二条")
        page.get_by_role("button", name="提交申请").click()
        status = page.get_by_role("status")
        expect(status).to_contain_text("已发送给 market，答复期限")
        return re.search(r"r-[0-9a-f]{16}", status.inner_text()).group(0)  # type: ignore[union-attr]

    enter(page, base, "eli", "zh")
    first = ask("permit_checks")
    look(page, "zh", "do-requested", findings)
    leave(page, base, "zh")

    enter(page, base, "mei", "zh")
    page.goto(f"{base}/admin/grants")
    page.get_by_label(f"拒绝 {first} 的理由").press_sequentially("财务数据仅用于税务事项")
    page.get_by_role("button", name=f"拒绝 {first}").click()
    answered("refused", f"已拒绝申请 {first}")
    page.evaluate("document.querySelectorAll('[name=reason]').forEach(e => e.removeAttribute('required'))")
    page.get_by_role("button", name=f"拒绝 {hub.pending}").click()  # no reason: past the browser's check
    answered("refused-without-reason", "须填写拒绝理由", role="alert")
    leave(page, base, "zh")

    enter(page, base, "eli", "zh")
    second = ask("discharge_permit_review")
    leave(page, base, "zh")
    enter(page, base, "mei", "zh")
    page.goto(f"{base}/admin/grants")
    page.get_by_role("button", name=f"批准 {second}").click()
    answered("approved", f"已批准申请 {second}：授权 g-")
    expect(page.get_by_role("status")).to_contain_text("北京时间")
    leave(page, base, "zh")

    enter(page, base, "olga", "zh")
    page.goto(f"{base}/admin/departments")
    page.get_by_label("名称").fill("Transport!")  # past the browser's own pattern check: the hub's
    page.evaluate("document.querySelector('input[name=name]').removeAttribute('pattern')")
    page.get_by_label("全称").fill("交通运输局")
    page.get_by_role("button", name="登记部门").click()
    answered("bad-department", "部门名称为 2 到 40 个小写字母", role="alert")
    page.get_by_label("名称").fill("transport")
    page.get_by_label("全称").fill("交通运输局")
    page.get_by_role("button", name="登记部门").click()
    answered("department", "已登记部门 transport")
    page.get_by_role("button", name="停用 transport").click()
    answered("department-blocked", "已停用部门 transport")
    assert findings == [], "\n".join(findings)
    assert problems == []
