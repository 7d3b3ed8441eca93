"""The disclosure audit in the console: auditors and operators search the log, open a record,
check the chain and ask who accessed an enterprise or a person; nobody else gets in, nothing on
the pages changes anything, a person's ID number never travels in a URL, and bad input is
answered on the page with its reason."""

from __future__ import annotations

import dataclasses
import html
import re
from pathlib import Path

import pytest
from sqlalchemy import text

from hub.audit import AuditStore, Disclosure
from tests.admin.conftest import Console, Person, sqlite_url
from tests.audit.conftest import disclosure, enterprise_uscc, person_id

PAGES = ("/admin/audit", "/admin/audit/records/1", "/admin/audit/who", "/admin/audit/chain")
# Record n is written at 2026-11-0n 02:00 UTC, i.e. 10:00 China Standard Time.
DAY = "2026-11-{:02d}T02:00:00.000000Z"
# The pages' own SQL is the audit queries', already run on both stores by tests/audit: access rules
# and bad input run on SQLite, the searches and the chain on both.
BOTH = pytest.mark.parametrize("console_url", ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def console_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if getattr(request, "param", "sqlite") == "postgres":
        return str(request.getfixturevalue("console_postgres_url"))
    return sqlite_url(tmp_path)


async def audit_log(console: Console) -> AuditStore:
    store: AuditStore = console.app.state.hub.disclosures.store
    return store


async def fill(console: Console, count: int) -> list[Disclosure]:
    """``count`` disclosures a day apart: enterprise ``n % 5`` and person ``n % 3`` in request n;
    every third by another client for another purpose."""
    store = await audit_log(console)
    written = []
    for n in range(1, count + 1):
        other = n % 3 == 0
        item = disclosure(store, n, client="taxation-b2" if other else "market-a1",
                          purpose="credit_supervision" if other else "licensing")
        written.append(dataclasses.replace(item, time=DAY.format(n)))
        await store.append(written[-1])
    return written


def seqs(page: str) -> list[int]:
    return [int(s) for s in re.findall(r'<td><a href="/admin/audit/records/(\d+)">', page)]


def alert(page: str) -> str:
    found = re.search(r'<p class="error" role="alert">(.*?)</p>', page, re.DOTALL)
    return html.unescape(found.group(1)) if found else ""


async def record_count(console: Console) -> int:
    async with (await audit_log(console)).engine.connect() as conn:
        return int((await conn.execute(text("select count(*) from audit_records"))).scalar_one())


async def test_signed_out_every_audit_page_leads_to_the_sign_in_page(console: Console) -> None:
    stranger = console.person()
    for path in PAGES:
        response = await stranger.http.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/admin/signin?next=")


@pytest.mark.parametrize("username", ["dev", "mei", "eli"])
async def test_developers_and_stewards_are_refused_every_audit_page(console: Console, username: str) -> None:
    await fill(console, 2)
    person = await console.signed_in(username)
    for path in (*PAGES, f"/admin/audit/who?identifier={enterprise_uscc(1)}", "/admin/audit?client=market-a1"):
        response = await person.http.get(path)
        assert response.status_code == 403 and "cannot open this page" in response.text, path
        assert "market-a1" not in response.text
    for path, field in (("/admin/audit", "subject"), ("/admin/audit/who", "identifier")):
        response = await person.form(path, {field: enterprise_uscc(1)})
        assert response.status_code == 403 and "market-a1" not in response.text, path
    assert '<a href="/admin/audit">' not in (await person.http.get("/admin/catalogue")).text


@pytest.mark.parametrize("username", ["ada", "olga"])
async def test_auditors_and_operators_open_every_audit_page(console: Console, username: str) -> None:
    await fill(console, 2)
    person = await console.signed_in(username)
    for path in PAGES:
        response = await person.http.get(path)
        assert response.status_code == 200, path
        assert '<a href="/admin/audit">Audit</a>' in response.text


async def test_nothing_on_the_audit_pages_changes_anything(console: Console) -> None:
    await fill(console, 3)
    ada, olga = await console.signed_in("ada"), await console.signed_in("olga")
    searches = {"/admin/audit": "subject", "/admin/audit/who": "identifier"}
    for path in PAGES:
        for person in (ada, olga):
            if path in searches:  # the search forms are POSTed, CSRF-checked, and only read
                answered = await person.form(path, {searches[path]: enterprise_uscc(1)})
                assert answered.status_code == 200 and "CASE-2026-00001" in answered.text
                forged = await person.http.post(path, data={searches[path]: enterprise_uscc(1)})
                assert forged.status_code == 403 and "CASE-2026-00001" not in forged.text
            else:
                assert (await person.form(path, {"identifier": enterprise_uscc(1)})).status_code == 405
                assert (await person.http.post(path, data={})).status_code == 405  # without CSRF too
            assert (await person.http.delete(path)).status_code == 405
    assert await record_count(console) == 3
    assert "Intact" in (await olga.http.get("/admin/audit/chain")).text


async def search(person: Person, **params: str) -> str:
    response = await person.form("/admin/audit", params)
    assert response.status_code == 200, alert(response.text)
    return response.text


def older_form(page: str) -> dict[str, str] | None:
    """The fields of the page's "Older disclosures" form, if it has one."""
    found = re.search(r'<form method="post" action="/admin/audit" class="older">(.*?)</form>', page, re.DOTALL)
    if not found:
        return None
    pairs = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', found.group(1))
    return {name: html.unescape(value) for name, value in pairs if name != "csrf"}


@BOTH
async def test_the_newest_disclosures_come_first_and_older_links_page_through_all_of_them(console: Console) -> None:
    await fill(console, 12)
    ada = await console.signed_in("ada")
    pages, fields = [], {"limit": "5"}
    while fields is not None:
        page = await search(ada, **fields)
        pages.append(seqs(page))
        fields = older_form(page)
    assert pages == [[12, 11, 10, 9, 8], [7, 6, 5, 4, 3], [2, 1]]  # a short page is the last
    assert seqs((await ada.http.get("/admin/audit", params={"limit": "5", "before": "8"})).text) == [7, 6, 5, 4, 3]


async def test_the_next_page_of_a_persons_disclosures_carries_their_number_in_a_form_not_a_url(
    console: Console,
) -> None:
    await fill(console, 12)
    ada = await console.signed_in("ada")
    number = person_id(1)
    first = await search(ada, subject=number, limit="2")
    assert seqs(first) == [10, 7]
    fields = older_form(first)
    assert fields == {"subject": number, "limit": "2", "before": "7"}
    assert seqs(await search(ada, **fields)) == [4, 1]
    assert not re.search(rf'href="[^"]*{number}', first)


async def test_a_persons_number_in_a_url_is_refused_and_nothing_is_searched(console: Console) -> None:
    await fill(console, 3)
    ada = await console.signed_in("ada")
    for path, field in (("/admin/audit", "subject"), ("/admin/audit/who", "identifier")):
        response = await ada.http.get(path, params={field: person_id(1)})
        assert response.status_code == 400, path
        assert "sends it in the request body: it never goes in a URL" in alert(response.text)
        assert seqs(response.text) == [] and "CASE-2026-00001" not in response.text
        assert person_id(1) not in response.text
    enterprise = await ada.http.get("/admin/audit/who", params={"identifier": enterprise_uscc(1)})
    assert enterprise.status_code == 200 and "CASE-2026-00001" in enterprise.text  # a USCC is public


async def test_a_search_by_client_purpose_and_case_finds_those_disclosures(console: Console) -> None:
    await fill(console, 9)
    olga = await console.signed_in("olga")
    assert seqs(await search(olga, client="taxation-b2")) == [9, 6, 3]
    assert seqs(await search(olga, purpose="licensing", client="market-a1", limit="2")) == [8, 7]
    assert seqs(await search(olga, case="CASE-2026-00005")) == [5]
    assert "No disclosures match." in await search(olga, client="nobody")


@BOTH
async def test_a_search_by_enterprise_shows_the_fields_it_disclosed_with_their_decisions(console: Console) -> None:
    await fill(console, 12)
    ada = await console.signed_in("ada")
    page = await search(ada, subject=enterprise_uscc(2))
    assert seqs(page) == [12, 7, 2]
    assert page.count('class="decision decision-mask" title="mask">legalRep: mask') == 3
    assert page.count('class="decision decision-allow" title="allow">name: allow') == 3


@BOTH
async def test_a_person_is_found_by_the_hash_of_their_number_which_is_shown_only_as_typed(console: Console) -> None:
    await fill(console, 9)
    ada = await console.signed_in("ada")
    number = person_id(1)
    page = await search(ada, subject=number)
    assert seqs(page) == [7, 4, 1] and "phone: deny" in page
    assert page.count(number) == 1 and f'value="{number}"' in page  # only in the form, as typed
    detail = (await ada.http.get("/admin/audit/records/7")).text
    assert number not in detail
    assert (await audit_log(console)).pseudonyms.person(number).removeprefix("person:") in detail


@BOTH
async def test_times_typed_in_a_browser_are_china_standard_time(console: Console) -> None:
    await fill(console, 6)
    ada = await console.signed_in("ada")
    page = await search(ada, since="2026-11-03T10:00", until="2026-11-05T10:00")  # 02:00 UTC
    assert seqs(page) == [4, 3]
    assert seqs(await search(ada, until="2026-11-03T09:59:59")) == [2, 1]
    assert seqs(await search(ada, since="2026-11-03T02:00:00Z")) == [6, 5, 4, 3]  # an offset given is kept
    assert "China Standard Time (UTC+08:00)" in page and "2026-11-04 10:00:00 CST" in page
    assert 'value="2026-11-03T10:00"' in page


@pytest.mark.parametrize(("params", "message"), [
    ({"subject": "91110000600037341N"}, "is neither a valid USCC nor a valid ID number"),
    ({"subject": "36042619910102009X"}, "is neither a valid USCC nor a valid ID number"),
    ({"subject": "x" * 300}, "the subject must be a USCC or an ID number"),
    ({"since": "yesterday"}, "since must be a date and time such as 2026-11-26T09:00 (China Standard Time)"),
    ({"until": "2026-13-01T09:00"}, "until must be a date and time"),
    ({"since": "2026-11-05T10:00", "until": "2026-11-01T10:00"}, "must be before until"),
    ({"limit": "0"}, "limit must be a whole number from 1 to 500"),
    ({"limit": "501"}, "limit must be a whole number from 1 to 500"),
    ({"limit": "ten"}, "limit must be a whole number, not 'ten'"),
    ({"limit": "-5"}, "limit must be a whole number"),
    ({"before": "0"}, "before_seq must be a record's seq"),
    ({"before": "99999999999999999999999"}, "before must be a whole number"),
    ({"client": "c" * 65}, "client_id is longer than any recorded one"),
    ({"case": "k" * 129}, "case_number is longer than any recorded one"),
])
async def test_bad_search_input_is_answered_on_the_page_with_its_reason(
    console: Console, params: dict[str, str], message: str
) -> None:
    await fill(console, 3)
    ada = await console.signed_in("ada")
    response = await ada.form("/admin/audit", params)
    assert response.status_code == 400
    assert message in alert(response.text)
    assert seqs(response.text) == [] and '<form method="post" action="/admin/audit"' in response.text


@BOTH
async def test_a_record_shows_its_subjects_and_fields_with_decisions(console: Console) -> None:
    written = await fill(console, 5)
    olga = await console.signed_in("olga")
    page = (await olga.http.get("/admin/audit/records/4")).text
    assert "Disclosure record 4" in page and written[3].request_id in page and written[3].operation_hash in page
    assert '<a href="/admin/clients/market-a1">market-a1</a>' in page
    assert "2026-11-04 10:00:00 CST" in page and "CASE-2026-00004" in page and "officer-0" in page
    assert f'href="/admin/audit/who?identifier=enterprise%3A{enterprise_uscc(4)}"' in page
    assert 'decision-deny" title="deny">phone: deny' in page and 'decision-mask" title="mask">legalRep: mask' in page


@pytest.mark.parametrize("path", ["/admin/audit/records/6", "/admin/audit/records/0",
                                  "/admin/audit/records/99999999999999999999999", "/admin/audit/records/abc"])
async def test_a_record_that_does_not_exist_is_not_found(console: Console, path: str) -> None:
    await fill(console, 5)
    ada = await console.signed_in("ada")
    assert (await ada.http.get(path)).status_code == 404


@BOTH
async def test_who_accessed_an_enterprise_lists_each_access_newest_first(console: Console) -> None:
    await fill(console, 12)
    ada = await console.signed_in("ada")
    page = (await ada.form("/admin/audit/who", {"identifier": enterprise_uscc(2)})).text
    assert "3 disclosures of this subject, newest first" in page
    rows = re.findall(r"<tr>\s*<td class=\"when\">(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td>\s*<td>(.*?)</td>",
                      page)
    assert rows == [
        ("2026-11-12 10:00:00 CST", "taxation-b2", "taxation", "credit_supervision", "CASE-2026-00012"),
        ("2026-11-07 10:00:00 CST", "market-a1", "market", "licensing", "CASE-2026-00007"),
        ("2026-11-02 10:00:00 CST", "market-a1", "market", "licensing", "CASE-2026-00002"),
    ]
    assert page.count("legalRep: mask") == 3


async def test_who_accessed_a_person_by_their_number(console: Console) -> None:
    await fill(console, 6)
    ada = await console.signed_in("ada")
    page = (await ada.form("/admin/audit/who", {"identifier": person_id(2)})).text
    assert "2 disclosures" in page and page.count("phone: deny") == 2
    assert page.count(person_id(2)) == 1 and f'value="{person_id(2)}"' in page  # only in the form, as typed
    nobody = (await ada.form("/admin/audit/who", {"identifier": enterprise_uscc(4000)})).text
    assert "Nobody has accessed this subject" in nobody


@BOTH
async def test_a_record_links_each_subject_to_who_accessed_it_without_the_persons_number(console: Console) -> None:
    await fill(console, 6)
    ada = await console.signed_in("ada")
    record = (await ada.http.get("/admin/audit/records/4")).text
    hashed = (await audit_log(console)).pseudonyms.person(person_id(1))
    assert f'href="/admin/audit/who?identifier=person%3A{hashed[7:]}"' in record and person_id(1) not in record
    page = await ada.http.get("/admin/audit/who", params={"identifier": hashed})
    assert page.status_code == 200 and "2 disclosures" in page.text and person_id(1) not in page.text
    by_reference = await search(ada, subject=f"enterprise:{enterprise_uscc(4)}")
    assert seqs(by_reference) == [4]


@pytest.mark.parametrize(("identifier", "message"), [
    ("91110000600037341N", "is neither a valid USCC nor a valid ID number"),
    ("360426199113010079", "is neither a valid USCC nor a valid ID number"),
    ("9" * 100, "must be a USCC or an ID number"),
    ("person:" + "g" * 64, "is no reference the log holds"),
    ("person:abc", "is no reference the log holds"),
    ("licence:130202202403180101", "is no reference the log holds"),
    ("enterprise:91110000600037341N", "check character is 'N', expected 'L'"),
])
async def test_who_accessed_with_a_bad_identifier_says_why(console: Console, identifier: str, message: str) -> None:
    ada = await console.signed_in("ada")
    response = await ada.form("/admin/audit/who", {"identifier": identifier})
    assert response.status_code == 400 and message in alert(response.text)


@BOTH
async def test_the_chain_status_counts_records_and_seals_and_turns_red_when_tampered(console: Console) -> None:
    await fill(console, 5)
    store = await audit_log(console)
    await store.seal()
    olga = await console.signed_in("olga")
    intact = (await olga.http.get("/admin/audit/chain")).text
    assert 'class="chain chain-intact"' in intact
    assert '<dd id="chain-records">5</dd>' in intact and '<dd id="chain-seals">1</dd>' in intact
    assert "at seq 5" in intact and '<dd id="chain-findings">0</dd>' in intact
    async with store.engine.begin() as conn:
        await conn.execute(text("update audit_records set purpose = 'whatever' where seq = 2"))
    tampered = await olga.http.get("/admin/audit/chain")
    assert tampered.status_code == 200
    assert 'class="chain chain-tampered"' in tampered.text and "Tampered: 1 finding" in tampered.text
    assert "edited: 1" in tampered.text and "<td>2</td><td>edited</td>" in tampered.text
