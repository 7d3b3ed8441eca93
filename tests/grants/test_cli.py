"""``hub grants``: what the operator types, and what it prints back (SQLite registry)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from hub.cli import main
from hub.store.signing_keys import new_key_pair


@pytest.fixture
def client_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    monkeypatch.setenv("HUB_ENV", "development")
    monkeypatch.setenv("HUB_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("HUB_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}")
    (tmp_path / "k.json").write_text(json.dumps(new_key_pair()[0]))
    for name in ("centre", "market", "security"):
        assert main(["registry", "add-department", name, "--title", name.title()]) == 0
    assert main(["registry", "add-client", "centre", "cases", "--jwk", str(tmp_path / "k.json")]) == 0
    return capsys.readouterr().out.strip().splitlines()[-1]


def grants(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """The exit code and what was said: standard output, or standard error for a refusal."""
    code = main(["grants", "--as", "olga", *argv])
    said = capsys.readouterr()
    if code:
        assert said.out == "" and said.err.startswith("hub grants: "), said
        return code, said.err
    return code, said.out


def asking(*scopes: str, purpose: str = "licensing", days: str = "30") -> list[str]:
    options = [f"--scope={scope}" for scope in scopes]
    return [*options, "--purpose", purpose, "--legal-basis", "行政许可法 第三十一条", "--days", days]


def test_the_operator_grants_lists_and_revokes(client_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = grants(capsys, "grant", client_id, *asking("market.enterprise:read"))
    assert code == 0 and re.fullmatch(rf"g-[0-9a-f]{{16}} granted to {client_id} until .* UTC\n", out)
    grant_id = out.split()[0]
    code, out = grants(capsys, "list", "--client", client_id)
    assert code == 0 and grant_id in out and "market.enterprise:read  for licensing" in out and "active" in out
    assert "granted now: market.enterprise:read" in _registry_list(capsys)
    code, out = grants(capsys, "revoke", grant_id, "--reason", "project ended")
    assert code == 0 and "loses market.enterprise:read on its next request" in out
    assert "revoked" in grants(capsys, "list", "--department", "market", "--side", "owner")[1]
    assert "granted now: (none)" in _registry_list(capsys)


def test_a_conditional_request_waits_then_is_approved_or_refused(
    client_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = grants(capsys, "request", client_id, *asking("security.identity:read", purpose="identity_check"))
    assert code == 0 and "pending: security answers by" in out
    first = out.split()[0]
    assert "pending" in grants(capsys, "list", "--department", "security", "--side", "owner")[1]
    code, out = grants(capsys, "approve", first)
    assert code == 0 and out.startswith(f"{first} approved: grant g-")
    second = grants(capsys, "request", client_id, *asking("security.identity_record:read", purpose="identity_check"))[1]
    code, out = grants(capsys, "refuse", second.split()[0], "--reason", "no legal basis for records")
    assert code == 0 and "refused" in out
    assert "refused: no legal basis for records" in grants(capsys, "list", "--client", client_id)[1]


def test_amend_recertify_and_the_admin_log(client_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = grants(capsys, "grant", client_id, "--purpose", "statistics", *asking("market.enterprise:read"))[1]
    grant_id = out.split()[0]
    assert grants(capsys, "amend", grant_id, "--remove-purpose", "statistics")[1] == f"{grant_id} purposes: licensing\n"
    assert "recertified until" in grants(capsys, "recertify", grant_id)[1]
    code, out = grants(capsys, "log", "--actor", "olga")
    actions = [line.split()[5] for line in out.splitlines()]
    assert code == 0 and actions == ["grant.recertify", "grant.amend", "grant.grant", "grant.request"]
    assert "olga (operator)" in out
    assert grants(capsys, "log", "--since", "2999-01-01")[1] == ""
    assert grants(capsys, "log", "--target", grant_id, "--action", "grant.amend")[1].count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["grant", "CLIENT", *asking("market.everything:write")], "not in the scope catalogue: market.everything:write"),
        (["grant", "CLIENT", *asking("market.enterprise:read", purpose="Licence Review")], "lower_snake_case"),
        (["grant", "CLIENT", *asking("market.enterprise:read", days="0")], "1 to 1095 days"),
        (["grant", "centre-nobody", *asking("market.enterprise:read")], "no client 'centre-nobody'"),
        (["approve", "r-0000000000000000"], "no grant request 'r-0000000000000000'"),
        (["revoke", "g-0000000000000000", "--reason", "x"], "no grant 'g-0000000000000000'"),
        (["revoke", "g-nothing", "--reason", "x"], "'g-nothing' is not a grant id: g- and 16 hex digits"),
        (["set-quota", "G-0123456789ABCDEF", "--none"], "'G-0123456789ABCDEF' is not a grant id"),
        (["recertify", "g-0123456789abcdef0"], "is not a grant id: g- and 16 hex digits"),
        (["amend", "r-0123456789abcdef", "--remove-purpose", "x"], "'r-0123456789abcdef' is not a grant id"),
        (["approve", "g-0123456789abcdef"], "'g-0123456789abcdef' is not a grant request id: r- and 16 hex digits"),
        (["refuse", "r-", "--reason", "x"], "is not a grant request id"),
        (["withdraw", "r-0123456789abcdeg"], "is not a grant request id"),
    ],
)
def test_bad_input_is_refused_with_the_reason(
    client_id: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, said = grants(capsys, *[client_id if a == "CLIENT" else a for a in argv])
    assert code == 1 and said.startswith("hub grants: ") and message in said


def test_a_change_the_state_no_longer_allows_is_said_to_be_a_conflict(
    client_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    grant_id = grants(capsys, "grant", client_id, *asking("market.enterprise:read"))[1].split()[0]
    assert grants(capsys, "revoke", grant_id, "--reason", "project ended")[0] == 0
    code, said = grants(capsys, "revoke", grant_id, "--reason", "again")
    assert (code, said) == (1, f"hub grants: conflict: grant {grant_id} is revoked\n")


def test_a_refusal_and_a_revocation_need_a_reason(client_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["refuse", "r-1"], ["revoke", "g-1"]):
        with pytest.raises(SystemExit):
            main(["grants", *argv])
    assert "--reason" in capsys.readouterr().err


def _registry_list(capsys: pytest.CaptureFixture[str]) -> str:
    main(["registry", "list"])
    return capsys.readouterr().out
