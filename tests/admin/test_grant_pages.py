"""The grant pages: a steward requests catalogue scopes for their client, the owner answers from the
inbox, both sides see deadlines and answers, grants are recertified, narrowed and revoked, each on
the admin log; auditors read, developers see none of it. SQLite (the API suite runs both stores)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.admin.conftest import Console, Person, csrf_field, sqlite_url

CONDITIONAL = "market.finance:read"
UNCONDITIONAL = "market.enterprise:read"
DAY = 86_400
REQUEST_ID = re.compile(r"r-[0-9a-f]{16}")
GRANT_ID = re.compile(r"g-[0-9a-f]{16}")


@pytest.fixture
def console_url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path)


def row(page: str, anchor: str) -> str:
    start = page.index(anchor)
    return page[start:page.index("</tr>", start)]


def asking(client_id: str, *scopes: str, **changes: str) -> dict[str, Any]:
    return {
        "client_id": client_id, "scope": list(scopes) or [CONDITIONAL], "purposes": "licensing, inspection",
        "legal_basis": "Regulation on permits, art. 12", "duration_days": "365", **changes,
    }


async def post(person: Person, path: str, data: dict[str, Any]) -> httpx.Response:
    page = await person.http.get("/admin/")
    return await person.http.post(path, data={"csrf": csrf_field(page.text), **data})


async def requested(console: Console, eli: Person, *scopes: str, **changes: str) -> str:
    sent = await post(eli, "/admin/grants/request", asking(console.ecology_client, *scopes, **changes))
    assert sent.status_code == 303, sent.text
    found = REQUEST_ID.search(sent.headers["location"]) or GRANT_ID.search(sent.headers["location"])
    assert found
    return found.group(0)


async def test_the_request_form_offers_catalogue_scopes_grouped_by_owner_and_only_the_stewards_clients(
    console: Console,
) -> None:
    eli = await console.signed_in("eli")
    form = (await eli.http.get("/admin/grants/request")).text
    market = form[form.index('id="scopes-market"'):]
    market = market[:market.index("</fieldset>")]
    assert f'value="{CONDITIONAL}"' in market and f'value="{UNCONDITIONAL}"' in market
    assert "conditional" in market and "unconditional" in market
    assert 'type="checkbox" name="scope"' in form and 'name="scopes"' not in form
    assert console.ecology_client in form and console.market_client not in form


async def test_a_conditional_request_shows_its_deadline_to_the_requester_and_in_the_owners_inbox(
    console: Console,
) -> None:
    eli, mei = await console.signed_in("eli"), await console.signed_in("mei")
    request_id = await requested(console, eli)
    mine = (await eli.http.get("/admin/grants")).text
    asked = row(mine, f'id="asked-{request_id}"')
    assert "pending" in asked and "CST" in asked
    assert f"/grant-requests/{request_id}/approve" not in mine  # the requester cannot answer
    inbox = (await mei.http.get("/admin/grants")).text
    assert f'id="inbox-{request_id}"' in inbox and f"Approve {request_id}" in inbox
    assert "overdue" not in inbox


async def test_a_request_past_its_deadline_is_overdue_on_both_sides(console: Console) -> None:
    eli, mei = await console.signed_in("eli"), await console.signed_in("mei")
    request_id = await requested(console, eli)
    console.app.state.hub.oauth.clock.offset = 11 * DAY
    for steward, anchor in ((eli, f'id="asked-{request_id}"'), (mei, f'id="inbox-{request_id}"')):
        page = (await steward.http.get("/admin/grants")).text
        assert "overdue" in page[page.index(anchor):][:3000]


async def test_the_owner_refuses_with_a_required_reason_and_the_requester_reads_it(console: Console) -> None:
    eli, mei = await console.signed_in("eli"), await console.signed_in("mei")
    request_id = await requested(console, eli)
    path = f"/admin/grant-requests/{request_id}/refuse"
    empty = await post(mei, path, {"reason": " "})
    assert empty.status_code == 400 and "a reason for the refusal is required" in empty.text
    assert (await post(mei, path, {"reason": "finance data serves tax matters"})).status_code == 303
    page = (await eli.http.get("/admin/grants")).text
    answer = row(page, f'id="asked-{request_id}"')
    assert "refused" in answer and "finance data serves tax matters" in answer and "mei" in answer


async def test_a_steward_cannot_answer_a_request_to_another_department(console: Console) -> None:
    eli = await console.signed_in("eli")
    request_id = await requested(console, eli)
    refused = await post(eli, f"/admin/grant-requests/{request_id}/approve", {})
    assert refused.status_code == 403 and "only a steward of market" in refused.text
    foreign = await post(await console.signed_in("mei"), "/admin/grants/request",
                         asking(console.ecology_client, UNCONDITIONAL))
    assert foreign.status_code == 403


async def test_an_approved_grant_is_recertified_narrowed_and_revoked_from_the_page(console: Console) -> None:
    eli, mei = await console.signed_in("eli"), await console.signed_in("mei")
    request_id = await requested(console, eli)
    approved = await post(mei, f"/admin/grant-requests/{request_id}/approve", {})
    grant_id = GRANT_ID.search(approved.headers["location"]).group(0)  # type: ignore[union-attr]
    assert (await post(mei, f"/admin/grants/{grant_id}/recertify", {})).status_code == 303
    removed = await post(mei, f"/admin/grants/{grant_id}/remove-purpose", {"purpose": "inspection"})
    assert removed.status_code == 303
    assert (await post(eli, f"/admin/grants/{grant_id}/recertify", {})).status_code == 403  # the owner's
    assert (await post(eli, f"/admin/grants/{grant_id}/revoke", {"reason": ""})).status_code == 400
    revoked_now = await post(eli, f"/admin/grants/{grant_id}/revoke", {"reason": "system retired"})
    assert revoked_now.status_code == 303
    held = (await eli.http.get("/admin/grants")).text
    revoked = row(held, f'id="held-{grant_id}"')
    assert "revoked" in revoked and "system retired" in revoked and "inspection" not in revoked
    log = (await (await console.signed_in("olga")).http.get("/admin/admin-log")).text
    for action in ("grant.request", "grant.approve", "grant.recertify", "grant.amend", "grant.revoke"):
        assert action in log


async def test_a_grant_ending_within_thirty_days_is_flagged_recertify_soon(console: Console) -> None:
    eli = await console.signed_in("eli")
    grant_id = await requested(console, eli, UNCONDITIONAL, duration_days="20")
    long = await requested(console, eli, UNCONDITIONAL, duration_days="200")
    page = (await eli.http.get("/admin/grants")).text
    assert "recertify soon" in row(page, f'id="held-{grant_id}"')
    assert "recertify soon" not in row(page, f'id="held-{long}"')


@pytest.mark.parametrize("changes,message", [
    ({"scope": ["market.everything:read"]}, "not in the scope catalogue"),
    ({"scope": []}, "at least one scope"),
    ({"duration_days": "0"}, "1 to 1095 days"),
    ({"duration_days": "5000"}, "1 to 1095 days"),
    ({"duration_days": "ten"}, "whole number of days"),
    ({"duration_days": "\u00b2"}, "whole number of days"),  # a digit to str.isdigit, not to int()
    *(({"duration_days": str(number)}, "whole number of days") for number in (2**63, -(2**63) - 1, 2**64, 10**30)),
    ({"purposes": ""}, "at least one purpose"),
    ({"legal_basis": ""}, "a legal basis is required"),
])
async def test_a_request_form_with_bad_input_is_shown_again_with_the_reason(
    console: Console, changes: dict[str, Any], message: str
) -> None:
    eli = await console.signed_in("eli")
    shown = await post(eli, "/admin/grants/request", {**asking(console.ecology_client), **changes})
    assert shown.status_code == 400 and message in shown.text and 'role="alert"' in shown.text
    kept = "licensing, inspection" if "purposes" not in changes else "Regulation on permits"
    assert kept in shown.text  # what was typed is shown again
    assert "No requests." in (await eli.http.get("/admin/grants")).text


async def test_malformed_ids_are_refused_and_unknown_ones_not_found(console: Console) -> None:
    olga = await console.signed_in("olga")
    assert (await post(olga, "/admin/grant-requests/r-x'/approve", {})).status_code == 400
    assert (await post(olga, "/admin/grants/nonsense/revoke", {"reason": "x"})).status_code == 400
    assert (await post(olga, "/admin/grant-requests/r-0123456789abcdef/approve", {})).status_code == 404
    assert (await post(olga, "/admin/grants/g-0123456789abcdef/recertify", {})).status_code == 404


async def test_an_auditor_reads_the_lists_without_any_form_to_change_them(console: Console) -> None:
    eli, ada = await console.signed_in("eli"), await console.signed_in("ada")
    request_id = await requested(console, eli)
    page = (await ada.http.get("/admin/grants")).text
    assert f'id="inbox-{request_id}"' in page and 'method="post" action="/admin/grant' not in page
    assert "Request scopes for a client" not in page
    refused = await post(ada, f"/admin/grant-requests/{request_id}/approve", {})
    assert refused.status_code == 403 and "an auditor reads" in refused.text
    assert (await ada.http.get("/admin/grants/request")).status_code == 403


async def test_a_developer_sees_nothing_of_grants_and_a_signed_out_visitor_is_sent_to_sign_in(
    console: Console,
) -> None:
    dev = await console.signed_in("dev")
    assert 'href="/admin/grants"' not in (await dev.http.get("/admin/")).text
    for path in ("/admin/grants", "/admin/grants/request"):
        assert (await dev.http.get(path)).status_code == 403
    assert (await post(dev, "/admin/grants/request", asking(console.ecology_client))).status_code == 403
    for path in ("/admin/grants", "/admin/grants/request"):
        away = await console.person().http.get(path)
        assert away.status_code == 303 and away.headers["location"].startswith("/admin/signin")


async def test_a_form_posted_without_the_csrf_field_is_refused(console: Console) -> None:
    eli = await console.signed_in("eli")
    forged = await eli.http.post("/admin/grants/request", data=asking(console.ecology_client))
    assert forged.status_code == 403 and "reload the page" in forged.text
    assert "No requests." in (await eli.http.get("/admin/grants")).text


async def test_a_steward_reads_only_their_own_department(console: Console) -> None:
    eli = await console.signed_in("eli")
    assert (await eli.http.get("/admin/grants?department=market")).status_code == 403
    olga = await console.signed_in("olga")
    await requested(console, eli)
    assert "Grants · ecology" in (await olga.http.get("/admin/grants?department=ecology")).text


async def test_the_requester_withdraws_a_pending_request_and_the_owner_cannot(console: Console) -> None:
    eli, mei = await console.signed_in("eli"), await console.signed_in("mei")
    request_id = await requested(console, eli)
    path = f"/admin/grant-requests/{request_id}/withdraw"
    refused = await post(mei, path, {})
    assert refused.status_code == 403 and "may not withdraw a request of ecology" in refused.text
    assert (await post(eli, path, {})).status_code == 303
    assert "withdrawn" in row((await eli.http.get("/admin/grants")).text, f'id="asked-{request_id}"')
    assert f'id="inbox-{request_id}"' not in (await mei.http.get("/admin/grants")).text


@pytest.mark.parametrize("quota", ["\u00b2", "-1", "1e3", str(2**63), str(-(2**63) - 1), str(2**64), str(10**30)])
async def test_a_quota_that_is_no_whole_number_is_refused(console: Console, quota: str) -> None:
    eli, mei = await console.signed_in("eli"), await console.signed_in("mei")
    approved = await post(mei, f"/admin/grant-requests/{await requested(console, eli)}/approve", {})
    grant_id = GRANT_ID.search(approved.headers["location"]).group(0)  # type: ignore[union-attr]
    refused = await post(mei, f"/admin/grants/{grant_id}/quota", {"daily_quota": quota})
    assert refused.status_code == 400 and "whole number of subjects a day" in refused.text
