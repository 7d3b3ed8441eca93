"""The catalogue and the disclosure audit in a real Chromium.

A department system's request through ``/graphql`` (the development demo's anonymous access)
discloses an enterprise; an auditor signs in by typing, searches the log by that enterprise's
USCC, opens the record, asks who accessed the enterprise and sees the chain intact. A developer
filters the catalogue by department. Screenshots go to ``tests/artifacts/admin-audit-*.png`` and
``admin-catalogue*.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from hub.settings import Settings
from hub.store import connect
from tests.browser.conftest import ARTIFACTS, Account, in_thread, serving_console, shot, sign_in

pytestmark = pytest.mark.browser

PASSWORD = "auditor's long password"
LOOKUP = "query EnterpriseCheck($uscc: String!) { enterprise(uscc: $uscc) { uscc name status } }"


@contextmanager
def running_hub(demo_data_dir: Path, state_dir: Path) -> Iterator[tuple[str, Settings]]:
    people: list[Account] = [("ada", "Ada Auditor", "auditor", PASSWORD, None),
                             ("dev", "Dev Developer", "developer", PASSWORD, "market")]
    with serving_console(demo_data_dir, state_dir, people, anonymous_access=True) as running:
        yield running


@pytest.fixture(scope="module")
def audited_hub(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_hub(demo_data_dir, tmp_path_factory.mktemp("audit-state")) as (url, _):
        yield url


def disclose_an_enterprise(base: str) -> str:
    """Two requests as a department system makes them: list enterprises, then look one up by USCC."""
    with httpx.Client(base_url=base, timeout=30) as http:
        listed = http.post("/graphql", json={"query": "{ enterprises(first: 2) { edges { node { uscc } } } }"})
        uscc = str(listed.json()["data"]["enterprises"]["edges"][1]["node"]["uscc"])
        looked_up = http.post("/graphql", json={"query": LOOKUP, "variables": {"uscc": uscc}})
        assert looked_up.status_code == 200 and looked_up.json()["data"]["enterprise"]["uscc"] == uscc
    return uscc


def test_an_auditor_finds_a_real_disclosure_opens_its_record_and_sees_the_chain_intact(
    page: Any, audited_hub: str
) -> None:
    from playwright.sync_api import expect

    base = audited_hub
    uscc = disclose_an_enterprise(base)
    sign_in(page, base, "ada", PASSWORD, "/admin/audit")
    expect(page).to_have_url(f"{base}/admin/audit")
    expect(page.locator("h1")).to_have_text("Disclosures")

    page.get_by_label("Subject (USCC or ID number)").press_sequentially(uscc)
    page.get_by_role("button", name="Search").click()
    rows = page.locator("table.records tbody tr")
    expect(rows).to_have_count(2)  # the list and the look-up both showed this enterprise
    expect(rows.first).to_contain_text("EnterpriseCheck")
    expect(rows.first).to_contain_text("uscc: allow")
    shot(page, "audit-search")

    rows.first.get_by_role("link").click()
    expect(page.locator("h1")).to_contain_text("Disclosure record")
    subjects = page.locator("table.subjects")
    expect(subjects).to_contain_text(uscc)
    expect(subjects).to_contain_text("name: allow")
    expect(page.locator(".facts")).to_contain_text("anonymous (the development demo's caller without a token)")
    shot(page, "audit-record")

    page.get_by_role("link", name=uscc).click()
    expect(page.locator("h1")).to_have_text("Who accessed this enterprise or person")
    expect(page.get_by_text("2 disclosures of this subject")).to_be_visible()
    shot(page, "audit-who")

    page.get_by_role("link", name="Chain verification").click()
    expect(page.locator("#chain-verdict")).to_contain_text("Intact")
    expect(page.locator("#chain-findings")).to_have_text("0")
    assert int(page.locator("#chain-records").inner_text()) >= 2
    shot(page, "audit-chain")


def test_an_auditor_who_types_a_bad_identifier_is_told_why(page: Any, audited_hub: str) -> None:
    from playwright.sync_api import expect

    sign_in(page, audited_hub, "ada", PASSWORD, "/admin/audit/who")
    page.get_by_label("USCC or ID number").press_sequentially("91110000600037341N")
    page.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("alert")).to_contain_text("neither a valid USCC nor a valid ID number")
    shot(page, "audit-who-refused")


def test_a_developer_filters_the_catalogue_by_department_and_cannot_open_the_audit(
    page: Any, audited_hub: str
) -> None:
    from playwright.sync_api import expect

    base = audited_hub
    sign_in(page, base, "dev", PASSWORD, "/admin/catalogue")
    expect(page.locator("h1")).to_have_text("Catalogue of shared data")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-catalogue.png"))  # the top only: the whole is ~16,000 px
    page.get_by_label("Department").select_option("taxation")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(f"{base}/admin/catalogue?department=taxation")
    expect(page.locator("section.resource").first).to_contain_text("Owner")
    expect(page.locator("section.resource").first).to_contain_text("taxation")
    expect(page.locator("#resource-Enterprise")).to_have_count(0)
    shot(page, "catalogue-taxation")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    assert download.value.suggested_filename == "catalogue.csv"
    expect(page.get_by_role("link", name="Audit")).to_have_count(0)
    page.goto(f"{base}/admin/audit")
    expect(page.get_by_text("a developer cannot open this page")).to_be_visible()


def _edit_a_record_behind_the_hubs_back(settings: Settings) -> None:
    async def work() -> None:
        engine = connect(settings.registry_url)
        try:
            async with engine.begin() as conn:
                await conn.execute(text("update audit_records set purpose = 'curiosity' where seq = 1"))
        finally:
            await engine.dispose()

    in_thread(work)


def test_an_auditor_sees_the_chain_turn_red_when_a_record_is_edited_outside_the_hub(
    page: Any, demo_data_dir: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with running_hub(demo_data_dir, tmp_path / "state") as (base, settings):
        disclose_an_enterprise(base)
        sign_in(page, base, "ada", PASSWORD, "/admin/audit/chain")
        expect(page.locator("#chain-verdict")).to_contain_text("Intact")
        _edit_a_record_behind_the_hubs_back(settings)
        page.reload()
        expect(page.locator("#chain-verdict")).to_contain_text("Tampered: 1 finding")
        expect(page.locator("table.findings")).to_contain_text("edited")
        shot(page, "audit-chain-tampered")
