"""Console accounts as a service, without the console or the terminal: only the operator changes
accounts, bad input is refused saying why, and every change writes its admin-log entry in its own
transaction (when the entry cannot be written, the change is not made)."""

from __future__ import annotations


import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.accounts import AccountService, Accounts
from hub.accounts.oidc_links import OidcLinks
from hub.accounts.credentials import CredentialError
from hub.accounts.store import AccountError
from hub.errors import BadInput, Conflict, Forbidden, NotFound
from hub.grants import Actor
from hub.store import Registry
from hub.store.admin_log import admin_actions
from tests.admin.conftest import argon2_once_per_password  # noqa: F401  (fixture: one real hash per password)
from tests.admin.test_admin_log_atomic import POSTGRES_REFUSAL, SQLITE_REFUSAL
from tests.registry.test_service import engine, registry_postgres_url, registry_url  # noqa: F401  (fixtures)

OPERATOR = Actor("olga", "operator")
OTHERS = [Actor("ma", "steward", "market"), Actor("ada", "auditor"), Actor("dev", "developer", "market")]
PASSWORD = "a long enough password"


@pytest.fixture
async def service(engine: AsyncEngine) -> AccountService:  # noqa: F811
    await Registry(engine).add_department("market", "Market Regulation")
    return AccountService(Accounts(engine), OidcLinks(engine), why="tests")


async def entries(engine: AsyncEngine) -> list[tuple[str, str, str, str | None]]:  # noqa: F811
    return [(e.actor, e.action, e.target, e.why) for e in await admin_actions(engine)]


async def test_the_operators_account_changes_are_made_and_each_is_on_the_admin_log(
    service: AccountService, engine: AsyncEngine  # noqa: F811
) -> None:
    created = await service.create(OPERATOR, "ma", "Ma Li", "steward", PASSWORD, "market")
    assert (created.username, created.role, created.department) == ("ma", "steward", "market")
    await service.set_password(OPERATOR, "ma", "another long password")
    await service.set_totp(OPERATOR, "ma", "JBSWY3DPEHPK3PXP")
    await service.set_totp(OPERATOR, "ma", None)
    await service.set_disabled(OPERATOR, "ma", True)
    await service.set_disabled(OPERATOR, "ma", False)
    await service.link_oidc(OPERATOR, "https://id.city", "ma.li", "ma")
    assert await OidcLinks(engine).account_for("https://id.city", "ma.li") == "ma"
    assert await service.unlink_oidc(OPERATOR, "https://id.city", "ma.li")
    assert not await service.unlink_oidc(OPERATOR, "https://id.city", "ma.li")  # nothing to unlink: no entry
    assert await service.accounts.sign_in("ma", "another long password") is not None
    assert sorted(await entries(engine)) == sorted([
        ("olga", action, "ma", "tests") for action in (
            "account.create", "account.password_set", "account.totp_enabled", "account.totp_disabled",
            "account.disable", "account.enable", "account.oidc_link", "account.oidc_unlink",
        )
    ])


@pytest.mark.parametrize("actor", OTHERS, ids=lambda a: a.role)
async def test_anyone_but_the_operator_is_refused_and_nothing_changes(
    service: AccountService, engine: AsyncEngine, actor: Actor  # noqa: F811
) -> None:
    await service.create(OPERATOR, "ada", "Ada", "auditor", PASSWORD)
    await service.link_oidc(OPERATOR, "https://id.city", "ada.l", "ada")
    before, account = await entries(engine), await service.accounts.get("ada")
    attempts = [
        service.create(actor, "eve", "Eve", "operator", PASSWORD),
        service.set_password(actor, "ada", "a password of theirs"),
        service.set_totp(actor, "ada", "JBSWY3DPEHPK3PXP"),
        service.set_disabled(actor, "ada", True),
        service.link_oidc(actor, "https://id.city", "eve.x", "ada"),
        service.unlink_oidc(actor, "https://id.city", "ada.l"),
    ]
    for attempt in attempts:
        with pytest.raises(Forbidden, match=f"{actor.username} .* may not change console accounts: only the operator"):
            await attempt
    assert [a.username for a in await service.accounts.all()] == ["ada"]
    assert await service.accounts.get("ada") == account
    assert await service.accounts.sign_in("ada", PASSWORD) is not None
    assert await OidcLinks(engine).of("ada") == [("https://id.city", "ada.l")]
    assert await entries(engine) == before


@pytest.mark.parametrize(
    ("change", "refusal", "message"),
    [
        (lambda s: s.create(OPERATOR, "Eve!", "Eve", "auditor", PASSWORD), AccountError, "a username is 2-64"),
        (lambda s: s.create(OPERATOR, "eve", "Eve", "root", PASSWORD), AccountError, "role must be one of"),
        (lambda s: s.create(OPERATOR, "eve", "Eve", "steward", PASSWORD), AccountError, "belong to a department"),
        (lambda s: s.create(OPERATOR, "eve", "Eve", "steward", PASSWORD, "housing"), AccountError,
         "no department 'housing'"),
        (lambda s: s.create(OPERATOR, "eve", "Eve", "auditor", PASSWORD, None, frozenset({"c"})), AccountError,
         "only a developer acts for clients"),
        (lambda s: s.create(OPERATOR, "eve", "Eve", "auditor", "short"), CredentialError, "at least 12 characters"),
        (lambda s: s.create(OPERATOR, "ada", "Ada", "auditor", PASSWORD), Conflict, "account 'ada' exists"),
        (lambda s: s.set_password(OPERATOR, "nobody", PASSWORD), NotFound, "no account 'nobody'"),
        (lambda s: s.set_disabled(OPERATOR, "nobody", True), NotFound, "no account 'nobody'"),
        (lambda s: s.set_totp(OPERATOR, "nobody", None), NotFound, "no account 'nobody'"),
        (lambda s: s.link_oidc(OPERATOR, "https://id.city", "x", "nobody"), NotFound, "no account 'nobody'"),
        (lambda s: s.set_password(OPERATOR, "No Body", PASSWORD), AccountError, "a username is 2-64"),
        (lambda s: s.set_disabled(OPERATOR, "x" * 500, True), AccountError, "a username is 2-64"),
        (lambda s: s.link_oidc(OPERATOR, "https://id.city", "x", "'; --"), AccountError, "a username is 2-64"),
        (lambda s: s.link_oidc(OPERATOR, "https://id.city", "", "ada"), AccountError, "1 to 255 characters"),
    ],
)
async def test_bad_input_or_a_conflict_is_refused_saying_why_and_nothing_is_logged(
    service: AccountService, engine: AsyncEngine,  # noqa: F811
    change: object, refusal: type[BadInput | Conflict | NotFound], message: str,
) -> None:
    await service.create(OPERATOR, "ada", "Ada", "auditor", PASSWORD)
    before = await entries(engine)
    with pytest.raises(refusal, match=message):
        await change(service)  # type: ignore[operator]
    assert await entries(engine) == before


async def test_a_change_whose_entry_cannot_be_written_is_not_made(
    service: AccountService, engine: AsyncEngine  # noqa: F811
) -> None:
    await service.create(OPERATOR, "ada", "Ada", "auditor", PASSWORD)
    postgres = engine.dialect.name == "postgresql"
    async with engine.begin() as conn:
        for statement in POSTGRES_REFUSAL if postgres else SQLITE_REFUSAL:
            await conn.execute(text(statement))
    with pytest.raises(Exception, match="admin log unavailable"):
        await service.create(OPERATOR, "eve", "Eve", "auditor", PASSWORD)
    with pytest.raises(Exception, match="admin log unavailable"):
        await service.set_disabled(OPERATOR, "ada", True)
    assert [(a.username, a.disabled) for a in await service.accounts.all()] == [("ada", False)]
    assert [action for _, action, _, _ in await entries(engine)] == ["account.create"]


def test_accounts_keep_the_languages_the_console_speaks() -> None:
    from hub.accounts.store import LANGUAGES
    from hub.admin.i18n import LANGUAGES as SPOKEN

    assert LANGUAGES == SPOKEN
