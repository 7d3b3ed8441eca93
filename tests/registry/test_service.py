"""The registry's changes as a service, without the console or the terminal: only the operator
changes the registry, bad input is refused with the field named, and every change writes its
admin-log entry in its own transaction (when the entry cannot be written, the change is not made)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.client import new_client_key
from hub.errors import BadInput, Forbidden, NotFound
from hub.fairuse.limits import ClientLimits
from hub.grants import Actor
from hub.registry import RegistryService
from hub.store import Registry, RegistryError, connect, migrate
from hub.store.admin_log import admin_actions
from tests.admin.test_admin_log_atomic import POSTGRES_REFUSAL, SQLITE_REFUSAL
from tests.conftest import RUN_ID, migrated_sqlite, postgres_database

OPERATOR = Actor("olga", "operator")
OTHERS = [Actor("ma", "steward", "market"), Actor("ada", "auditor"), Actor("dev", "developer", "market")]


@pytest.fixture(params=["sqlite", "postgres"])
def registry_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The test's own registry database, already migrated (made from the run's migrated one)."""
    if request.param == "sqlite":
        return migrated_sqlite(tmp_path, "registry.sqlite")
    return str(request.getfixturevalue("registry_postgres_url"))


@pytest.fixture
async def registry_postgres_url(postgres_url: str, postgres_template: str) -> AsyncIterator[str]:
    name = f"hub_registry_{RUN_ID}_{uuid.uuid4().hex[:6]}"
    async with postgres_database(postgres_url, name, template=postgres_template) as url:
        yield url


@pytest.fixture
async def engine(registry_url: str) -> AsyncIterator[AsyncEngine]:
    found = connect(registry_url)
    await migrate(found)
    try:
        yield found
    finally:
        await found.dispose()


@pytest.fixture
def service(engine: AsyncEngine) -> RegistryService:
    return RegistryService(Registry(engine), why="tests")


def public_key() -> dict[str, Any]:
    return {k: v for k, v in new_client_key().items() if k != "d"}


async def entries(engine: AsyncEngine) -> list[tuple[str, str, str, str, str | None]]:
    return [(e.actor, e.role, e.action, e.target, e.why) for e in await admin_actions(engine)]


async def test_the_operators_changes_are_made_and_each_is_on_the_admin_log(
    service: RegistryService, engine: AsyncEngine
) -> None:
    department = await service.add_department(OPERATOR, " market ", "Market Regulation", "1302")
    assert (department.name, department.jurisdiction) == ("market", "1302")
    client = await service.register_client(OPERATOR, "market", "licensing", public_key())
    second = public_key()
    await service.add_key(OPERATOR, client.client_id, second)
    await service.remove_key(OPERATOR, client.client_id, client.keys[0]["kid"])
    await service.set_limits(OPERATOR, client.client_id, ClientLimits(5, 10))
    blocked = await service.set_client_status(OPERATOR, client.client_id, "disabled")
    await service.set_department_status(OPERATOR, "market", "disabled")
    assert not blocked.active
    actions = [(action, target) for _, _, action, target, _ in await entries(engine)]
    assert sorted(actions) == sorted([
        ("department.register", "market"), ("client.register", client.client_id),
        ("client.key_add", client.client_id), ("client.key_remove", client.client_id),
        ("client.limits", client.client_id), ("client.block", client.client_id), ("department.block", "market"),
    ])
    assert {(actor, role, why) for actor, role, _, _, why in await entries(engine)} == {("olga", "operator", "tests")}


@pytest.mark.parametrize("actor", OTHERS, ids=lambda a: a.role)
async def test_anyone_but_the_operator_is_refused_and_nothing_changes(
    service: RegistryService, engine: AsyncEngine, actor: Actor
) -> None:
    client = await service.register_client(
        OPERATOR, (await service.add_department(OPERATOR, "market", "Market")).name, "licensing", public_key()
    )
    before = await entries(engine)
    attempts = [
        service.add_department(actor, "ecology", "Ecology"),
        service.set_department_status(actor, "market", "disabled"),
        service.register_client(actor, "market", "other", public_key()),
        service.set_client_status(actor, client.client_id, "disabled"),
        service.set_limits(actor, client.client_id, None),
        service.add_key(actor, client.client_id, public_key()),
        service.remove_key(actor, client.client_id, client.keys[0]["kid"]),
    ]
    for attempt in attempts:
        with pytest.raises(Forbidden, match=f"{actor.username} .* may not change the registry: only the operator"):
            await attempt
    registry = service.registry
    assert [d.name for d in await registry.departments()] == ["market"]
    assert [c.client_id for c in await registry.clients()] == [client.client_id]
    assert (await registry.client(client.client_id)) == client
    assert await entries(engine) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.add_department(OPERATOR, "", "Market"), "name is required"),
        (lambda s: s.add_department(OPERATOR, "market", 42), "title must be text"),
        (lambda s: s.add_department(OPERATOR, "market", "M\x00"), "title must be at most 200 printable"),
        (lambda s: s.add_department(OPERATOR, "market", "Market", "13O2"), "GB/T 2260 prefix"),
        (lambda s: s.add_department(OPERATOR, "Market!", "Market"), "2-40 lower-case letters"),
        (lambda s: s.set_department_status(OPERATOR, "market", "paused"), "status must be 'active'"),
        (lambda s: s.register_client(OPERATOR, "housing", "x", public_key()), "no department 'housing'"),
        (lambda s: s.register_client(OPERATOR, "market", "x", new_client_key()), "private members"),
        (lambda s: s.set_client_status(OPERATOR, "nobody", "disabled"), "'nobody' is not a client id"),
        (lambda s: s.set_limits(OPERATOR, "market-" + "0" * 500, None), "is not a client id"),
        (lambda s: s.add_key(OPERATOR, "market-'; --", public_key()), "is not a client id"),
        (lambda s: s.set_department_status(OPERATOR, "Market!", "disabled"), "2-40 lower-case letters"),
        (lambda s: s.remove_key(OPERATOR, "market-nobody", "k" * 101), "kid must be at most 100"),
    ],
)
async def test_bad_input_is_refused_naming_the_field_and_nothing_is_logged(
    service: RegistryService, engine: AsyncEngine, change: Any, message: str
) -> None:
    if message != "2-40 lower-case letters":
        await service.add_department(OPERATOR, "market", "Market")
    before = await entries(engine)
    with pytest.raises(RegistryError, match=message):
        await change(service)
    assert await entries(engine) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s, _: s.set_department_status(OPERATOR, "housing", "disabled"), "no department 'housing'"),
        (lambda s, _: s.set_client_status(OPERATOR, "market-nobody", "disabled"), "no client 'market-nobody'"),
        (lambda s, _: s.set_limits(OPERATOR, "market-nobody", None), "no client 'market-nobody'"),
        (lambda s, _: s.add_key(OPERATOR, "market-nobody", public_key()), "no client 'market-nobody'"),
        (lambda s, _: s.remove_key(OPERATOR, "market-nobody", "k1"), "no client 'market-nobody'"),
        (lambda s, client: s.remove_key(OPERATOR, client, "k-none"), "has no key 'k-none'"),
    ],
)
async def test_a_change_to_what_is_not_there_is_not_found_and_nothing_is_logged(
    service: RegistryService, engine: AsyncEngine, change: Any, message: str
) -> None:
    await service.add_department(OPERATOR, "market", "Market")
    client = await service.register_client(OPERATOR, "market", "case system", public_key())
    before = await entries(engine)
    with pytest.raises(NotFound, match=message) as refused:
        await change(service, client.client_id)
    assert not isinstance(refused.value, BadInput)
    assert await entries(engine) == before


async def test_a_change_whose_entry_cannot_be_written_is_not_made(
    service: RegistryService, engine: AsyncEngine
) -> None:
    await service.add_department(OPERATOR, "market", "Market")
    postgres = engine.dialect.name == "postgresql"
    async with engine.begin() as conn:
        for statement in POSTGRES_REFUSAL if postgres else SQLITE_REFUSAL:
            await conn.execute(text(statement))
    with pytest.raises(Exception, match="admin log unavailable"):
        await service.add_department(OPERATOR, "ecology", "Ecology")
    with pytest.raises(Exception, match="admin log unavailable"):
        await service.set_department_status(OPERATOR, "market", "disabled")
    registry = service.registry
    assert [(d.name, d.status) for d in await registry.departments()] == [("market", "active")]
    assert [action for _, _, action, _, _ in await entries(engine)] == ["department.register"]
