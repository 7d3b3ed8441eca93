"""Nothing English is left on a Chinese page: the notices after a change and the services' messages
(grant service, registry, accounts, limits, audit search) are shown in the page's language with their
values, while the JSON API keeps the English text.

The first test reads the services' code the way ``make messages`` reads the console's: every message
an error is raised with must be translated by the console, its values kept (hub/admin/messages.py).
"""

from __future__ import annotations

import ast
import html as html_module
import re
from pathlib import Path

import pytest

from hub.admin import messages
from hub.admin.i18n import Moment, Said, say
from tests.admin.conftest import Console, Person, csrf_field, sqlite_url

ROOT = Path(__file__).resolve().parents[2]
# Where the messages a console page shows come from.
SPEAKERS = [
    *sorted((ROOT / "hub" / "grants").glob("*.py")),
    *sorted((ROOT / "hub" / "admin").glob("*.py")),
    *sorted((ROOT / "hub" / "registry").glob("*.py")),
    *sorted((ROOT / "hub" / "accounts").glob("*.py")),
    ROOT / "hub" / "store" / "registry.py",
    ROOT / "hub" / "fairuse" / "limits.py",
    ROOT / "hub" / "audit" / "search.py",
    ROOT / "hub" / "audit" / "verify.py",
    ROOT / "hub" / "oauth" / "rfc7638.py",
]
# The JSON API's own modules: their messages stay English (clients read codes).
API_ONLY = {"api.py", "grant_api.py"}
# Messages never shown on a page: settings checked at start-up, and a JSON body's shape.
NOT_ON_A_PAGE = {
    "fair_use.utc_offset_minutes must be within -840..840",
    "fair_use.enabled must be true or false (is {})",
    "fair_use.quota_lease must be a share of a quota, 0..{} (is {})",
    "the body must be a JSON object",
    # The registry is the operator's: its pages are closed to anyone else before the service is asked.
    "{} ({}{}) may not change the registry: only the operator may",
    "{} ({}{}) may not change console accounts: only the operator may",
}
# Values the services put in that a plain sample cannot stand for: (module, expression) -> sample.
SAMPLES = {
    ("service.py", "_who(actor)"): "mei (steward of market)",
    ("service.py", "what"): "recertify v9x",
    ("service.py", "actor.role"): "auditor",
    ("service.py", "row.status"): "withdrawn",
    ("service.py", "found[0].status"): "revoked",
    ("checks.py", "what"): "a legal basis",
    ("registry_access.py", "what"): "title",
    ("limits.py", "wanted"): "a whole number",
    ("limits.py", "name"): "cost_per_day",
    ("search.py", "name"): "case_number",
    ("audit_form.py", "name"): "since",
}
# What a Chinese message may keep in Latin letters: codes, formats, standards and examples.
CODES = {
    "JWK", "JSON", "TLS", "UTC", "ISO", "RFC", "DPoP", "ES256", "kty", "crv", "kid", "base64url", "UserInfo",
    "OpenID", "Connect", "id_token", "state", "seq", "before_seq", "limit", "lower_snake_case", "licensing",
    "market", "hub", "gateways", "add-certificate", "audit", "status", "active", "disabled", "KB", "mei",
    "P-256", "EC", "GB", "ASCII",
}
SPEAKING = re.compile(r"(Error|Forbidden|NotFound|Conflict|Refused|Unacceptable\w*)$|^(refused|_password_problem|_enrolment)$")
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


def spoken(path: Path) -> list[tuple[int, str, list[str]]]:
    """Each literal message ``path`` raises or shows: (line, message with ``{}`` for each value,
    a sample value for each ``{}``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = ast.unparse(node.func).rsplit(".", 1)[-1]
        if not SPEAKING.search(name):
            continue
        for argument in node.args[:2]:
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                found.append((node.lineno, argument.value, []))
            elif isinstance(argument, ast.JoinedStr):
                text, samples = [], []
                for part in argument.values:
                    if isinstance(part, ast.Constant):
                        text.append(str(part.value))
                    else:
                        text.append("{}")
                        expression = ast.unparse(part.value)  # type: ignore[attr-defined]
                        samples.append(SAMPLES.get((path.name, expression), f"v{len(samples)}x"))
                found.append((node.lineno, "".join(text), samples))
    return found


def test_every_message_the_services_raise_is_translated_with_its_values() -> None:
    untranslated = []
    for path in SPEAKERS:
        if path.name in API_ONLY:
            continue
        for line, text, samples in spoken(path):
            if text in NOT_ON_A_PAGE or not LATIN_WORD.search(text):
                continue
            english = text.format(*samples) if samples else text
            chinese = say("zh", english)
            kept = re.findall(r"v\d+x", english)
            left = set(re.findall(r"(?<!\w)[A-Za-z][\w-]+", chinese)) - CODES - set(kept)
            if chinese == english or left or not all(value in chinese for value in kept):
                untranslated.append(f"{path.relative_to(ROOT)}:{line}: {text}")
    assert untranslated == [], "add a form to hub/admin/messages.py and translate it (make messages)"


def test_the_check_for_untranslated_messages_finds_one(tmp_path: Path) -> None:
    code = tmp_path / "service.py"
    code.write_text('def f(x):\n    raise GrantError(f"grant {x} is lost in the post")\n')
    [(line, text, samples)] = spoken(code)
    english = text.format(*samples)
    assert (line, english) == (2, "grant v0x is lost in the post") and say("zh", english) == english
    # It fits "grant %(grant)s is %(status)s" but for its status, which is not a word of the console.
    assert say("zh", "grant v0x is revoked") == "授权 v0x 已撤销"


@pytest.mark.parametrize(("english", "chinese"), [
    ("no grant 'g-1'", "没有授权 'g-1'"),
    ("grant g-1 is revoked", "授权 g-1 已撤销"),
    ("request r-1 is withdrawn, not pending", "申请 r-1 已撤回，不是待答复状态"),
    ("no department 'x'; register it first", "没有部门 'x'；请先登记"),
    ("no department 'x'", "没有部门 'x'"),
    ("mei (steward of market) may not approve request r-1: only a steward of ecology (the data owner) may",
     "mei（market 的数据管理员）不能批准申请 r-1：只有 ecology（数据所有方）的数据管理员可以"),
    ("ada (auditor) may not change grants: the auditor role is read-only here",
     "ada（审计员）不能变更授权：审计员角色在此只读"),
    ("a reason for the refusal is required", "须填写拒绝理由"),
    ("The new password cannot be used: a password has at least 12 characters.", "新密码不能使用：密码至少 12 个字符。"),
    ("rate must be above 0 and at most 10000 requests per second (is -1.0)",
     "速率须大于 0 且不超过每秒 10000 个请求（当前为 -1.0）"),
    ("burst must be a whole number (is 'x')", "突发上限须为整数（当前为 'x'）"),
    ("limit must be a whole number, not 'abc'", "每页条数须为整数，而不是 'abc'"),
    ("nonsense must be a whole number, not 'abc'", "nonsense must be a whole number, not 'abc'"),  # no such field
])
def test_a_services_message_is_shown_in_chinese_with_its_values(english: str, chinese: str) -> None:
    assert say("zh", english) == chinese
    assert say("en", english) == english


def test_a_message_that_fits_no_form_is_shown_as_it_is() -> None:
    assert say("zh", "something nobody wrote") == "something nobody wrote"
    assert list(messages.fits("x" * 3000)) == []


def test_a_notice_shows_its_times_in_china_standard_time() -> None:
    said = Said.of("grant %(grant)s recertified until %(until)s", grant="g-1", until=Moment(1767225600))
    assert say("zh", said) == "已重新认证授权 g-1，有效期至 2026-01-01 08:00 北京时间"
    assert say("en", said) == "grant g-1 recertified until 2026-01-01 08:00 CST"


@pytest.fixture
def console_url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path)


def shown(html: str) -> str:
    """A page's notice and error lines, as text."""
    lines = re.findall(r'<p class="(?:notice|error)" role="(?:status|alert)">(.*?)</p>', html, re.DOTALL)
    return " | ".join(html_module.unescape(re.sub(r"<[^>]+>", "", line)).strip() for line in lines)


async def post(person: Person, path: str, data: dict[str, str]) -> tuple[int, str, str]:
    """The form's answer: its status, where it sent the browser, and the page it ends on."""
    page = await person.http.get("/admin/")
    sent = await person.http.post(path, data={"csrf": csrf_field(page.text), **data})
    if sent.status_code == 303:
        location = sent.headers["location"]
        return 303, location, (await person.http.get(location)).text
    return sent.status_code, "", sent.text


async def test_an_operator_reads_what_was_done_and_what_was_wrong_in_chinese(console: Console) -> None:
    olga = await console.signed_in("olga", language="zh")
    status, location, page = await post(olga, "/admin/departments", {"name": "tax", "title": "Taxation"})
    assert (status, location) == (303, "/admin/departments?done=department.registered&department=tax")
    assert shown(page) == "已完成：已登记部门 tax"
    status, _, page = await post(olga, "/admin/departments", {"name": "tax", "title": "Again"})
    assert status == 409 and shown(page) == "部门 'tax' 已登记"
    status, _, page = await post(olga, "/admin/departments/tax/status", {"status": "disabled"})
    assert shown(page) == "已完成：已停用部门 tax"
    status, _, page = await post(olga, "/admin/accounts", {
        "username": "tina", "name": "Tina", "role": "steward", "department": "", "password": "x" * 12})
    assert status == 400 and shown(page) == "数据管理员和开发人员隶属于某个部门；运营人员和审计员不隶属于部门"
    status, _, page = await post(olga, f"/admin/clients/{console.market_client}", {"change": "limits", "rate": "-1"})
    assert status == 400 and shown(page).startswith("速率须大于 0")


async def test_stewards_read_a_grants_changes_and_refusals_in_chinese(console: Console) -> None:
    eli = await console.signed_in("eli", language="zh")
    asked = {"client_id": console.ecology_client, "scope": "market.finance:read", "purposes": "licensing",
             "legal_basis": "Regulation on permits, art. 12", "duration_days": "365"}
    status, location, page = await post(eli, "/admin/grants/request", asked)
    request = re.search(r"r-[0-9a-f]{16}", location)
    assert status == 303 and request, location
    # Sent to the owner, with the deadline in Beijing time.
    assert re.fullmatch(r"已完成：申请 r-[0-9a-f]{16} 已发送给 market，答复期限 \S+ \S+ 北京时间", shown(page))
    status, _, page = await post(eli, f"/admin/grant-requests/{request.group(0)}/approve", {})
    assert status == 403 and "不能批准申请" in shown(page) and "数据所有方" in shown(page)
    mei = await console.signed_in("mei", language="zh")
    status, location, page = await post(mei, f"/admin/grant-requests/{request.group(0)}/approve", {})
    grant = re.search(r"g-[0-9a-f]{16}", location)
    assert status == 303 and grant is not None
    grant_id = grant.group(0)
    assert re.fullmatch(rf"已完成：已批准申请 {request.group(0)}：授权 {grant_id}，有效期至 \S+ \S+ 北京时间", shown(page))
    status, _, page = await post(mei, f"/admin/grants/{grant_id}/revoke", {"reason": "system retired"})
    assert shown(page) == f"已完成：已撤销授权 {grant_id}"
    status, _, page = await post(mei, f"/admin/grants/{grant_id}/revoke", {"reason": "again"})
    assert status == 409 and shown(page) == f"授权 {grant_id} 已撤销"
    status, _, page = await post(mei, "/admin/grant-requests/r-0000000000000000/approve", {})
    assert status == 404 and shown(page) == "没有授权申请 'r-0000000000000000'"  # the service's words, as the CLI's
    english = await mei.api("POST", f"/grants/{grant_id}/revoke", {"reason": "again"})
    assert english.json()["message"] == f"grant {grant_id} is revoked"  # the JSON API keeps English


@pytest.mark.parametrize("query", [
    "done=%3Cscript%3Ealert(1)%3C/script%3E",  # not a notice of the console's
    "done=your+account+is+locked,+call+555-0100",
    "done=grant.revoked",  # its value missing
    "done=grant.revoked&grant=" + "g" * 101,  # a value longer than any id
    "done=grant.recertified&grant=g-1&until=tomorrow",  # a time that is not one
    "done=grant.recertified&grant=g-1&until=" + "9" * 13,
    "done=grant.recertified&grant=g-1&until=" + "9" * 12,  # a time past the calendar's last year
    "done=grant.recertified&grant=g-1&until=%C2%B2",  # a digit to str.isdigit, not to int()
    *(f"done=grant.recertified&grant=g-1&until={number}" for number in (2**63, -(2**63) - 1, 2**64, 10**30)),
])
async def test_a_link_cannot_make_the_console_say_what_it_would_not(console: Console, query: str) -> None:
    olga = await console.signed_in("olga", language="zh")
    page = await olga.http.get(f"/admin/grants?{query}")
    assert page.status_code == 200 and 'class="notice"' not in page.text and "script>alert" not in page.text


async def test_a_notices_values_are_text_and_its_time_is_beijing_time(console: Console) -> None:
    olga = await console.signed_in("olga", language="zh")
    page = await olga.http.get("/admin/grants?done=grant.recertified&grant=%3Cb%3Eg%3C/b%3E&until=1767225600")
    assert "已完成：已重新认证授权 &lt;b&gt;g&lt;/b&gt;，有效期至 2026-01-01 08:00 北京时间" in page.text
    olga_en = await console.signed_in("olga")
    page = await olga_en.http.get("/admin/grants?done=request.refused&request=r-1")
    assert shown(page.text) == "Done: request r-1 refused"
