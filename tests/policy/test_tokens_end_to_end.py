"""Grants, tokens, policies and the audit together: a production hub, a real client, real DPoP tokens.

A data owner's grant decides what a department system sees; the same token sees less on the next
request once a purpose is removed from the grant; each answer is on the disclosure record.
"""

from __future__ import annotations

from typing import Any

import httpx

from hub.audit import who_accessed
from hub.client import HubAuth
from hub.policy.masks import amount_band, keep_ends
from tests.oauth.conftest import OPERATOR, RESOURCE, TOKEN_URL, OAuthHub, Registered, oauth  # noqa: F401

ENTERPRISE = "market.enterprise:read"
PERSON = "market.person:read"
LEGAL_REP = "market.enterprise.legal_rep:read"
SCOPES = f"{ENTERPRISE} {PERSON} {LEGAL_REP}"
QUERY = """query Check($u: String!) {
  enterprise(uscc: $u) { uscc name registeredCapital legalRepresentative { idNumber } }
}"""


def first_enterprise(demo_data_dir: Any) -> dict[str, Any]:
    import sqlite3

    with sqlite3.connect(demo_data_dir / "market.sqlite") as conn:
        conn.row_factory = sqlite3.Row
        row = conn.execute("SELECT * FROM enterprises WHERE legal_rep_id IS NOT NULL ORDER BY uscc LIMIT 1").fetchone()
    return dict(row)


async def ask(
    oauth: OAuthHub, auth: HubAuth, uscc: str, purpose: str = "licensing", query: str = QUERY  # noqa: F811
) -> httpx.Response:
    return await oauth.http.post(
        RESOURCE, json={"query": query, "variables": {"u": uscc}}, auth=auth,
        headers={"X-Hub-Purpose": purpose, "X-Hub-End-User": "clerk-0042", "X-Hub-Case": "C2026112600017"},
    )


async def test_a_granted_client_sees_its_view_and_the_answer_is_on_record(oauth: OAuthHub, demo_data_dir: Any) -> None:  # noqa: F811
    enterprise = first_enterprise(demo_data_dir)
    client: Registered = await oauth.register("housing", frozenset({ENTERPRISE, PERSON, LEGAL_REP}))
    auth = HubAuth(TOKEN_URL, client.client_id, client.key, RESOURCE, SCOPES)
    response = await ask(oauth, auth, enterprise["uscc"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body
    seen = body["data"]["enterprise"]
    assert seen["registeredCapital"] == amount_band(enterprise["registered_capital"], (10, 100, 500, 1000, 5000, 10000))
    assert seen["legalRepresentative"]["idNumber"] == keep_ends(enterprise["legal_rep_id"], 6, 4)
    assert seen["legalRepresentative"]["idNumber"] != enterprise["legal_rep_id"]
    store = oauth.hub.disclosures.store
    [access] = await who_accessed(store, enterprise["uscc"])
    assert (access.client_id, access.department, access.purpose) == (client.client_id, "housing", "licensing")
    assert (access.end_user, access.case_number, access.operation_name) == ("clerk-0042", "C2026112600017", "Check")


async def test_a_purpose_removed_from_the_grant_is_refused_on_the_next_request_with_the_same_token(
    oauth: OAuthHub, demo_data_dir: Any  # noqa: F811
) -> None:
    enterprise = first_enterprise(demo_data_dir)
    client = await oauth.register("housing", frozenset({ENTERPRISE}), ("licensing", "supervision"))
    auth = HubAuth(TOKEN_URL, client.client_id, client.key, RESOURCE, ENTERPRISE)
    name = "query($u: String!) { enterprise(uscc: $u) { name } }"
    before = (await ask(oauth, auth, enterprise["uscc"], purpose="supervision", query=name)).json()
    assert before["data"]["enterprise"]["name"] == enterprise["name"]
    service = await oauth.grants()
    [grant] = await service.grants(client_id=client.client_id, active_only=True)
    await service.amend(OPERATOR, grant.grant_id, ["supervision"], "supervision is done by the market bureau")
    after = (await ask(oauth, auth, enterprise["uscc"], purpose="supervision", query=name)).json()
    assert after["data"] == {"enterprise": None}  # refused whole: every field is denied for this purpose
    assert {e["extensions"]["code"] for e in after["errors"]} == {"FORBIDDEN"}
    assert all(e["extensions"]["reason"] == "purpose" for e in after["errors"])
    still = (await ask(oauth, auth, enterprise["uscc"], purpose="licensing", query=name)).json()
    assert still["data"]["enterprise"]["name"] == enterprise["name"]


async def test_a_client_without_the_person_scope_cannot_even_name_the_legal_representative(
    oauth: OAuthHub, demo_data_dir: Any  # noqa: F811
) -> None:
    enterprise = first_enterprise(demo_data_dir)
    client = await oauth.register("housing", frozenset({ENTERPRISE}))
    auth = HubAuth(TOKEN_URL, client.client_id, client.key, RESOURCE, ENTERPRISE)
    body = (await ask(oauth, auth, enterprise["uscc"])).json()
    assert "data" not in body
    assert [e["message"] for e in body["errors"]] == [
        "Cannot query field 'legalRepresentative' on type 'Enterprise'."
    ]
