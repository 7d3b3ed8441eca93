"""The admin API for grants: who may read and change what, over SQLite and PostgreSQL.

Market owns ``market.finance:read`` (conditional: its steward answers) and ``market.enterprise:read``
(unconditional: granted at once); Ecology's steward asks for them for the ecology client.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.admin.conftest import Console, Person

CONDITIONAL = "market.finance:read"
UNCONDITIONAL = "market.enterprise:read"
ECOLOGY_OWN = "ecology.discharge_permit:read"
DAY = 86_400


def asking(client_id: str, scope: str = CONDITIONAL, **changes: Any) -> dict[str, Any]:
    return {"client_id": client_id, "scopes": [scope], "purposes": ["licensing"],
            "legal_basis": "Regulation on permits, art. 12", "duration_days": 365, **changes}


async def pending_request(console: Console, eli: Person) -> dict[str, Any]:
    made = await eli.api("POST", "/grant-requests", asking(console.ecology_client))
    assert made.status_code == 201, made.text
    return dict(made.json())


async def test_an_unconditional_scope_is_granted_at_once_and_both_departments_see_the_grant(
    console: Console,
) -> None:
    eli, mei = await console.signed_in("eli"), await console.signed_in("mei")
    made = await eli.api("POST", "/grant-requests", asking(console.ecology_client, UNCONDITIONAL))
    assert made.status_code == 201 and made.json()["status"] == "granted"
    grant_id = made.json()["grant_id"]
    for steward, side in ((eli, "consumer"), (mei, "owner")):
        listed = (await steward.api("GET", f"/grants?side={side}")).json()["grants"]
        assert [(g["grant_id"], g["scopes"], g["consumer_department"]) for g in listed] == [
            (grant_id, [UNCONDITIONAL], "ecology")
        ]


async def test_a_conditional_request_waits_with_its_deadline_for_the_owner_who_approves_it(
    console: Console,
) -> None:
    eli, mei = await console.signed_in("eli"), await console.signed_in("mei")
    asked = await pending_request(console, eli)
    assert asked["status"] == "pending" and asked["grant_id"] is None and not asked["overdue"]
    assert asked["deadline"] - asked["created_at"] == 10 * DAY
    inbox = (await mei.api("GET", "/grant-requests?status=pending&side=owner")).json()["requests"]
    assert [(r["request_id"], r["deadline"]) for r in inbox] == [(asked["request_id"], asked["deadline"])]
    assert (await eli.api("GET", "/grants")).json()["grants"] == []

    approved = await mei.api("POST", f"/grant-requests/{asked['request_id']}/approve")
    assert approved.status_code == 201 and approved.json()["scopes"] == [CONDITIONAL]
    held = (await eli.api("GET", f"/grants?client_id={console.ecology_client}")).json()["grants"]
    assert [g["grant_id"] for g in held] == [approved.json()["grant_id"]]
    mine = (await eli.api("GET", "/grant-requests")).json()["requests"]
    assert [(r["status"], r["decided_by"]) for r in mine] == [("approved", "mei")]


async def test_the_owner_refuses_with_a_reason_the_requester_reads(console: Console) -> None:
    eli, mei = await console.signed_in("eli"), await console.signed_in("mei")
    asked = await pending_request(console, eli)
    path = f"/grant-requests/{asked['request_id']}/refuse"
    empty = await mei.api("POST", path, {"reason": "   "})
    assert empty.status_code == 400 and "reason" in empty.json()["message"]
    refused = await mei.api("POST", path, {"reason": "finance data is for tax matters only"})
    assert refused.status_code == 200 and refused.json()["status"] == "refused"
    seen = (await eli.api("GET", "/grant-requests")).json()["requests"]
    assert [(r["status"], r["reason"]) for r in seen] == [("refused", "finance data is for tax matters only")]
    again = await mei.api("POST", f"/grant-requests/{asked['request_id']}/approve")
    assert again.status_code == 409 and again.json()["error"] == "conflict"
    assert "refused, not pending" in again.json()["message"]


async def test_a_steward_cannot_answer_for_another_department_nor_request_for_its_clients(
    console: Console,
) -> None:
    eli, mei = await console.signed_in("eli"), await console.signed_in("mei")
    asked = await pending_request(console, eli)
    for answer, body in (("approve", None), ("refuse", {"reason": "mine to refuse"})):
        refused = await eli.api("POST", f"/grant-requests/{asked['request_id']}/{answer}", body)
        assert refused.status_code == 403 and "only a steward of market" in refused.json()["message"]
    foreign = await mei.api("POST", "/grant-requests", asking(console.ecology_client, UNCONDITIONAL))
    assert foreign.status_code == 403 and foreign.json()["error"] == "forbidden"
    other = await eli.api("GET", "/grants?department=market")
    assert other.status_code == 403 and "you act for department ecology" in other.json()["message"]
    assert (await eli.api("POST", "/grants", asking(console.ecology_client, ECOLOGY_OWN))).status_code == 403


async def test_a_steward_reads_only_grants_their_department_owns_or_holds(console: Console) -> None:
    olga, mei = await console.signed_in("olga"), await console.signed_in("mei")
    own = await olga.api("POST", "/grants", asking(console.ecology_client, ECOLOGY_OWN))
    assert own.status_code == 201 and own.json()["granted_by"] == "olga"
    assert (await mei.api("GET", "/grants")).json()["grants"] == []
    every = (await olga.api("GET", "/grants")).json()["grants"]
    assert [g["grant_id"] for g in every] == [own.json()["grant_id"]]


async def test_revoking_takes_a_reason_and_lands_on_the_admin_log(console: Console) -> None:
    olga, mei = await console.signed_in("olga"), await console.signed_in("mei")
    grant = (await olga.api("POST", "/grants", asking(console.ecology_client))).json()
    path = f"/grants/{grant['grant_id']}/revoke"
    assert (await mei.api("POST", path, {"reason": ""})).status_code == 400
    revoked = await mei.api("POST", path, {"reason": "the permit system was retired"})
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert revoked.json()["revoke_reason"] == "the permit system was retired"
    log = (await olga.api("GET", "/admin-log")).json()["actions"]
    assert [(a["action"], a["actor"]) for a in log[:3]] == [
        ("grant.revoke", "mei"), ("grant.approve", "olga"), ("grant.request", "olga"),
    ]


async def test_an_auditor_reads_grants_and_requests_but_changes_nothing(console: Console) -> None:
    eli, ada = await console.signed_in("eli"), await console.signed_in("ada")
    asked = await pending_request(console, eli)
    assert [r["request_id"] for r in (await ada.api("GET", "/grant-requests")).json()["requests"]] == [
        asked["request_id"]
    ]
    assert (await ada.api("GET", "/grants")).status_code == 200
    changes = [
        ("/grants", asking(console.ecology_client)), ("/grant-requests", asking(console.ecology_client)),
        (f"/grant-requests/{asked['request_id']}/approve", None),
        (f"/grant-requests/{asked['request_id']}/refuse", {"reason": "no"}),
        ("/grants/g-0000000000000000/revoke", {"reason": "no"}),
    ]
    for path, body in changes:
        refused = await ada.api("POST", path, body)
        assert refused.status_code == 403 and "an auditor reads" in refused.json()["message"], path


@pytest.mark.parametrize("method,path", [
    ("GET", "/grants"), ("POST", "/grants"), ("GET", "/grant-requests"), ("POST", "/grant-requests"),
    ("POST", "/grant-requests/r-0000000000000000/approve"),
    ("POST", "/grant-requests/r-0000000000000000/refuse"),
    ("POST", "/grants/g-0000000000000000/revoke"),
])
async def test_a_developer_is_refused_and_a_signed_out_caller_told_to_sign_in(
    console: Console, method: str, path: str
) -> None:
    dev = await console.signed_in("dev")
    refused = await dev.api(method, path, asking(console.ecology_client) if method == "POST" else None)
    assert refused.status_code == 403 and "a developer cannot" in refused.json()["message"]
    signed_out = await console.person().http.request(method, f"/admin/api{path}")
    assert signed_out.status_code == 401 and signed_out.json()["error"] == "signed_out"


async def test_a_change_without_the_csrf_header_is_refused(console: Console) -> None:
    olga = await console.signed_in("olga")
    forged = await olga.http.post("/admin/api/grants", json=asking(console.ecology_client))
    assert forged.status_code == 403 and "reload the page" in forged.json()["message"]
    assert (await olga.api("GET", "/grants")).json()["grants"] == []


@pytest.mark.parametrize("changes,message", [
    ({"scopes": ["market.everything:read"]}, "not in the scope catalogue: market.everything:read"),
    ({"scopes": []}, "at least one scope"),
    ({"scopes": "market.finance:read"}, "scopes must be a list of strings"),
    ({"purposes": ["Licensing Work"]}, "lower_snake_case"),
    ({"legal_basis": ""}, "a legal basis is required"),
    ({"duration_days": 0}, "1 to 1095 days"),
    ({"duration_days": 5000}, "1 to 1095 days"),
    ({"duration_days": "30"}, "whole number of days"),
    ({"duration_days": True}, "whole number of days"),
    ({"client_id": "ecology-nobody"}, "ecology-nobody"),
])
async def test_a_request_with_bad_input_is_refused_with_the_reason(
    console: Console, changes: dict[str, Any], message: str
) -> None:
    eli = await console.signed_in("eli")
    refused = await eli.api("POST", "/grant-requests", {**asking(console.ecology_client), **changes})
    assert refused.status_code == 400 and message in refused.json()["message"], refused.text
    assert (await eli.api("GET", "/grant-requests")).json()["requests"] == []


async def test_malformed_ids_are_bad_input_and_unknown_ones_not_found(console: Console) -> None:
    olga = await console.signed_in("olga")
    malformed_paths = (
        "/grant-requests/r-1;drop/approve", "/grants/%27or%201=1/revoke", "/grant-requests/g-00/refuse",
    )
    for path in malformed_paths:
        malformed = await olga.api("POST", path, {"reason": "x"})
        assert malformed.status_code == 400 and "is not a" in malformed.json()["message"], path
    for path in ("/grant-requests/r-0123456789abcdef/approve", "/grants/g-0123456789abcdef/revoke"):
        unknown = await olga.api("POST", path, {"reason": "x"})
        assert unknown.status_code == 404 and unknown.json()["error"] == "not_found", path
    assert (await olga.api("GET", "/grants?side=sideways")).status_code == 400
    not_json = await olga.http.post(
        "/admin/api/grant-requests", content=b"scopes=all", headers={"x-csrf-token": await olga.csrf()}
    )
    assert not_json.status_code == 400 and "JSON object" in not_json.json()["message"]
