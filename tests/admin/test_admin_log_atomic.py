"""A console change and its admin-log entry commit together: when the entry cannot be written, the
change is not made either (the operator sees a failure, the registry and accounts are as before),
and once the log takes writes again the same change goes through with its entry."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

from tests.admin.conftest import ORIGIN, PASSWORD, Console, public_jwk

SQLITE_REFUSAL = (
    (
        "create trigger refuse_admin_log before insert on admin_actions "
        "begin select raise(abort, 'admin log unavailable'); end"
    ),
)
POSTGRES_REFUSAL = (
    (
        "create function refuse_admin_log() returns trigger language plpgsql as "
        "$$ begin raise exception 'admin log unavailable'; end $$"
    ),
    (
        "create trigger refuse_admin_log before insert on admin_actions "
        "for each row execute function refuse_admin_log()"
    ),
)


async def refuse_log_writes(console: Console, refused: bool = True) -> None:
    engine = console.registry.engine
    postgres = engine.dialect.name == "postgresql"
    async with engine.begin() as conn:
        if refused:
            for statement in POSTGRES_REFUSAL if postgres else SQLITE_REFUSAL:
                await conn.execute(text(statement))
        else:
            await conn.execute(text("drop trigger refuse_admin_log" + (" on admin_actions" if postgres else "")))


async def log_size(console: Console) -> int:
    async with console.registry.engine.connect() as conn:
        return int((await conn.execute(text("select count(*) from admin_actions"))).scalar_one())


def failed(response: httpx.Response) -> bool:
    return response.status_code == 500 and "admin log unavailable" not in response.text


@pytest.fixture
def unraised(console: Console) -> Console:
    """The console as a browser meets it: an error inside the app is a 500 response, not an exception."""
    transport = httpx.ASGITransport(app=console.app, raise_app_exceptions=False)

    def person(language: str = "en") -> object:
        from tests.admin.conftest import Person

        headers = {"origin": ORIGIN, "accept-language": language}
        return Person(httpx.AsyncClient(transport=transport, base_url=ORIGIN, headers=headers))

    console.person = person  # type: ignore[method-assign]
    return console


async def test_registry_changes_are_not_made_when_their_admin_log_entry_cannot_be_written(unraised: Console) -> None:
    console = unraised
    olga = await console.signed_in("olga")
    before = await log_size(console)
    await refuse_log_writes(console)

    assert failed(await olga.api("POST", "/departments", {"name": "transport", "title": "Transport"}))
    assert failed(await olga.api("POST", "/clients", {"department": "market", "name": "Late", "jwk": public_jwk()}))
    assert failed(await olga.api("POST", f"/clients/{console.market_client}/status", {"status": "disabled"}))
    assert failed(await olga.api("POST", "/departments/ecology/status", {"status": "disabled"}))
    assert failed(await olga.api("POST", f"/clients/{console.market_client}/keys", {"jwk": public_jwk()}))

    assert "transport" not in [d.name for d in await console.registry.departments()]
    assert [c.name for c in await console.registry.clients("market")].count("Late") == 0
    market = await console.registry.client(console.market_client)
    assert market is not None and market.status == "active" and len(market.keys) == 1
    assert market.tokens_valid_after == 0
    ecology = await console.registry.client(console.ecology_client)
    assert ecology is not None and ecology.department_status == "active"
    assert await log_size(console) == before

    await refuse_log_writes(console, refused=False)
    made = await olga.api("POST", "/departments", {"name": "transport", "title": "Transport"})
    assert made.status_code == 201
    actions = (await olga.api("GET", "/admin-log")).json()["actions"]
    assert (actions[0]["action"], actions[0]["target"]) == ("department.register", "transport")
    assert await log_size(console) == before + 1


async def test_account_changes_are_not_made_when_their_admin_log_entry_cannot_be_written(unraised: Console) -> None:
    console = unraised
    olga = await console.signed_in("olga")
    await refuse_log_writes(console)
    created = await olga.form("/admin/accounts", {
        "username": "wu", "name": "Wu", "role": "auditor", "password": PASSWORD, "department": "",
    })
    assert failed(created)
    assert await console.accounts.get("wu") is None
    assert failed(await olga.form("/admin/accounts/mei/status", {"disabled": "true"}))
    mei = await console.accounts.get("mei")
    assert mei is not None and not mei.disabled
    assert (await console.signed_in("mei")) is not None  # her sessions were not closed either
