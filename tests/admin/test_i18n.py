"""The console speaks Simplified Chinese first and English second; its catalogue is complete and current.

The catalogue tests read the templates and the console's Python as ``make messages`` does, so a new
string that nobody translated, English written into a template outside ``_()``/``{% trans %}``, or
a ``.mo`` left behind its ``.po`` fails here, not in front of a steward.
"""

from __future__ import annotations

import datetime as dt
import gettext
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from jinja2 import Environment

from hub.admin import i18n
from tests.admin.conftest import ORIGIN, Console, csrf_field, sqlite_url

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "hub" / "admin" / "locale"
TEMPLATES = ROOT / "hub" / "admin" / "templates"
PO = LOCALE / "zh" / "LC_MESSAGES" / "console.po"
MO = LOCALE / "zh" / "LC_MESSAGES" / "console.mo"
# Words a Chinese page may show as they are: names of standards, formats, protocols and products.
KEPT = {"JSON", "CSV", "TOTP", "URI", "GraphiQL", "USCC", "MAC", "JWK", "EC", "P-256", "kid", "CST", "UTC",
        "otpauth", "hub", "graphiql", "install", "code", "KB", "min", "zh", "en", "English", "ID",
        "market-"}  # the start of a client id, as an example of what to type
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
_VISIBLE_ATTRIBUTE = re.compile(r'\b(?:placeholder|title|alt|aria-label)="([^"]*)"')


def extracted() -> dict[str, str | tuple[str, ...]]:
    """Every message the console's templates and Python mark for translation, as ``make messages`` finds them."""
    with (LOCALE / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    found: dict[str, str | tuple[str, ...]] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords,
    ):
        found[message if isinstance(message, str) else message[0]] = message
    return found


def test_every_string_of_the_console_has_its_chinese_translation() -> None:
    catalogue = read_po(PO.open("rb"))
    untranslated = []
    for key, message in extracted().items():
        entry = catalogue.get(message if isinstance(message, str) else message[0])
        strings = [entry.string] if entry is not None and isinstance(entry.string, str) else list(
            entry.string if entry is not None else [""]
        )
        if entry is None or not all(strings):
            untranslated.append(key)
    assert untranslated == [], "run `make messages` and translate these in console.po"


def test_a_chinese_translation_keeps_every_placeholder_of_its_english() -> None:
    placeholder = re.compile(r"%\((\w+)\)s")
    for entry in read_po(PO.open("rb")):
        if not entry.id:
            continue
        english = entry.id if isinstance(entry.id, str) else entry.id[0]
        chinese = entry.string if isinstance(entry.string, str) else entry.string[0]
        assert sorted(placeholder.findall(chinese)) == sorted(placeholder.findall(english)), english


def test_the_committed_mo_holds_exactly_what_its_po_says() -> None:
    catalogue = read_po(PO.open("rb"))
    wanted = {}
    for entry in catalogue:
        if not entry.id:
            continue
        if isinstance(entry.id, str):
            wanted[entry.id] = entry.string
        else:
            for n, string in enumerate(entry.string):
                wanted[(entry.id[0], n)] = string
    with MO.open("rb") as mo:
        compiled = {k: v for k, v in gettext.GNUTranslations(mo)._catalog.items() if k != ""}  # type: ignore[attr-defined]
    assert compiled == wanted, "the .mo is stale: run `make messages` and commit the .mo"


def template_text(source: str) -> list[str]:
    """What a template shows literally: text between its tags and visible attributes, outside Jinja
    (each Jinja expression or tag, and everything inside ``{% trans %}``, counts as translated)."""
    joined, in_trans, previous = [], False, ""
    for _line, kind, value in Environment(extensions=["jinja2.ext.i18n"]).lex(source):
        if kind == "name" and previous == "block_begin":
            in_trans = value == "trans" or (in_trans and value != "endtrans")
        if kind == "data" and not in_trans:
            joined.append(value)
        elif kind in ("variable_begin", "block_begin"):
            joined.append("\x00")
        previous = kind if kind != "whitespace" else previous
    page = "".join(joined)
    return [*_VISIBLE_ATTRIBUTE.findall(page), re.sub(r"<[^>]*>", " ", page)]


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_no_template_shows_english_outside_the_catalogue(template: str) -> None:
    words = {w for text in template_text((TEMPLATES / template).read_text()) for w in _WORD.findall(text)}
    assert words - KEPT == set()


def test_the_check_for_english_in_templates_finds_it() -> None:
    found = template_text('<p title="Shown on hover">{{ _("Fine") }} Left alone <b>here</b></p>')
    assert {w for text in found for w in _WORD.findall(text)} == {"Shown", "on", "hover", "Left", "alone", "here"}


@pytest.mark.parametrize(("header", "language"), [
    (None, "zh"),
    ("", "zh"),
    ("en-GB,en;q=0.9", "en"),
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
    ("en;q=0.4, zh-Hans;q=0.8", "zh"),
    ("fr-FR, en;q=0.5", "en"),
    ("fr-FR, de", "zh"),
    ("en;q=0", "zh"),
    ("en;q=banana", "zh"),
    ("en;q=7", "en"),
    ("x" * 100_000, "zh"),
    (",;=q" * 5000, "zh"),
])
def test_a_signed_out_visitor_is_answered_in_the_browsers_language_or_chinese(header: str | None, language: str) -> None:
    assert i18n.from_accept_language(header) == language


def test_times_are_china_standard_time_in_both_languages() -> None:
    instant = dt.datetime(2026, 11, 26, 1, 0, tzinfo=dt.UTC)
    assert i18n.when("en", int(instant.timestamp())) == "2026-11-26 09:00 CST"
    assert i18n.when("zh", "2026-11-26T01:00:00Z", seconds=True) == "2026-11-26 09:00:00 北京时间"
    assert i18n.when("zh", instant.astimezone(dt.timezone(dt.timedelta(hours=-5)))) == "2026-11-26 09:00 北京时间"
    assert i18n.when("en", None) == ""


async def test_the_sign_in_page_speaks_chinese_unless_the_browser_asks_for_english(console: Console) -> None:
    chinese = await console.person("").http.get("/admin/signin")
    assert '<html lang="zh-Hans">' in chinese.text
    assert "<h1>登录</h1>" in chinese.text and "Sign in" not in chinese.text
    english = await console.person("en-US,en;q=0.9").http.get("/admin/signin")
    assert '<html lang="en">' in english.text and "<h1>Sign in</h1>" in english.text


async def test_a_signed_out_visitor_switches_language_and_the_choice_is_kept(console: Console) -> None:
    visitor = console.person("en")
    page = await visitor.http.get("/admin/signin")
    switched = await visitor.http.post("/admin/language", data={"language": "zh", "next": "/admin/signin"})
    assert switched.status_code == 303 and switched.headers["location"] == "/admin/signin"
    assert "<h1>登录</h1>" in (await visitor.http.get("/admin/signin")).text
    assert "<h1>Sign in</h1>" in page.text


async def test_an_account_reads_the_console_in_chinese_until_it_chooses_english(console: Console) -> None:
    mei = await console.signed_in("mei", language="zh")
    home = await mei.http.get("/admin/")
    assert "欢迎，Mei Market-Steward" in home.text and "数据管理员" in home.text and "Welcome" not in home.text
    await mei.form("/admin/language", {"language": "en", "next": "/admin/grants"})
    again = console.person("zh")  # another browser, asking for Chinese: the account's choice wins
    await again.sign_in("mei", "correct horse battery staple")
    assert "Welcome, Mei Market-Steward" in (await again.http.get("/admin/")).text
    assert (await console.accounts.get("mei")).language == "en"  # type: ignore[union-attr]


async def test_errors_are_shown_in_the_pages_language_and_the_api_keeps_english(console: Console) -> None:
    mei = await console.signed_in("mei", language="zh")
    refused = await mei.http.get("/admin/accounts")
    assert refused.status_code == 403 and "数据管理员无权打开此页面" in refused.text
    api = await mei.http.get("/admin/api/departments")
    assert api.status_code == 403 and api.json()["message"] == "a steward cannot open this page"


async def test_a_signed_in_switch_needs_the_sessions_csrf_token(console: Console) -> None:
    mei = await console.signed_in("mei", language="zh")
    forged = await mei.http.post("/admin/language", data={"language": "en", "csrf": "forged"})
    assert forged.status_code == 403
    assert (await console.accounts.get("mei")).language == "zh"  # type: ignore[union-attr]


async def test_a_switch_from_another_site_is_refused(console: Console) -> None:
    visitor = console.person("en")
    other = await visitor.http.post(
        "/admin/language", data={"language": "zh"}, headers={"origin": "https://evil.example"},
    )
    assert other.status_code == 403 and "set-cookie" not in other.headers


@pytest.mark.parametrize("language", ["fr", "", "zh" * 1000, "<script>", "EN"])
async def test_a_language_the_console_does_not_speak_is_refused(console: Console, language: str) -> None:
    mei = await console.signed_in("mei", language="zh")
    page = await mei.http.get("/admin/")
    refused = await mei.http.post("/admin/language", data={"language": language, "csrf": csrf_field(page.text)})
    assert refused.status_code == 403 and "控制台支持 zh（中文）或 en（English）" in refused.text
    assert (await console.accounts.get("mei")).language == "zh"  # type: ignore[union-attr]


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/admin", "/admin\\..\\x"])
async def test_the_switch_never_sends_a_visitor_to_another_site(console: Console, target: str) -> None:
    switched = await console.person("en").http.post("/admin/language", data={"language": "zh", "next": target})
    assert switched.status_code == 303 and switched.headers["location"] == "/admin/"


async def test_every_page_carries_the_switch(console: Console) -> None:
    olga = await console.signed_in("olga", language="zh")
    for path in ("/admin/", "/admin/departments", "/admin/grants", "/admin/account", "/admin/nowhere"):
        page = await olga.http.get(path)
        assert 'action="/admin/language"' in page.text and f'name="next" value="{path}"' in page.text
    assert ORIGIN.startswith("https://")


@pytest.fixture
def console_url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path)
