"""Token checks kept between requests still hold from the next request, on every replica.

Each replica keeps what it read of a client and which token ids are not revoked while the
registry's change counter stays put (``hub/oauth/live.py``). Two hubs on one registry (SQLite and
PostgreSQL): both answer a token first (so both keep what they read), then a change made through
the first must be refused by the second on its very next request.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from hub.client import new_client_key
from hub.store import connect, migrate
from hub.oauth.live import LiveClients
from hub.store import ClientRecord
from hub.store.changes import Generation, generation
from tests.oauth.conftest import OPERATOR, OAuthHub, Registered, open_oauth_hub, production_settings, refused


@dataclasses.dataclass
class Replicas:
    first: OAuthHub
    second: OAuthHub
    client: Registered
    dpop_key: dict[str, str]
    token: str

    async def both_answer(self) -> None:
        for replica in (self.first, self.second):
            response = await replica.graphql(self.token, self.dpop_key, **{"X-Hub-Purpose": "licensing"})
            assert response.status_code == 200, response.text

    async def second_answers(self) -> int:
        response = await self.second.graphql(self.token, self.dpop_key, **{"X-Hub-Purpose": "licensing"})
        return response.status_code


@pytest.fixture
async def replicas(registry_url: str, demo_data_dir: Path) -> AsyncIterator[Replicas]:
    settings = production_settings(registry_url, demo_data_dir)
    async with open_oauth_hub(settings) as first, open_oauth_hub(settings) as second:
        for replica in (first, second):  # each replay cache's epoch begins before any proof is made
            await replica.hub.database.open()
        client = await first.register()
        dpop_key = new_client_key()
        token = await first.token(client, dpop_key)
        found = Replicas(first, second, client, dpop_key, token)
        await found.both_answer()
        await found.both_answer()  # the second time from what each replica kept
        yield found


async def test_a_token_revoked_at_one_replica_is_refused_by_the_other_on_its_next_request(replicas: Replicas) -> None:
    revoked = await replicas.first.http.post(
        "/oauth/revoke", data={**replicas.first.token_form(replicas.client), "token": replicas.token}
    )
    assert revoked.status_code == 200
    response = await replicas.second.graphql(replicas.token, replicas.dpop_key)
    assert "revoked" in refused(response, 401, "invalid_token")


async def test_a_client_disabled_at_one_replica_is_refused_by_the_other_on_its_next_request(
    replicas: Replicas,
) -> None:
    await (await replicas.first.registry()).set_status(replicas.client.client_id, "disabled")
    response = await replicas.second.graphql(replicas.token, replicas.dpop_key)
    assert "disabled" in refused(response, 401, "invalid_token")


async def test_a_department_disabled_at_one_replica_is_refused_by_the_other(replicas: Replicas) -> None:
    await (await replicas.first.registry()).set_department_status("market", "disabled")
    response = await replicas.second.graphql(replicas.token, replicas.dpop_key)
    assert "disabled" in refused(response, 401, "invalid_token")


async def test_a_grant_revoked_at_one_replica_no_longer_reaches_the_graph_at_the_other(replicas: Replicas) -> None:
    service = await replicas.first.grants()
    for grant in await service.grants(client_id=replicas.client.client_id, active_only=True):
        await service.revoke(OPERATOR, grant.grant_id, "project ended")
    assert await replicas.second_answers() == 403


async def test_a_grant_that_expires_between_two_requests_is_gone_on_the_second(replicas: Replicas) -> None:
    """No write happens when a grant runs out: the kept client is good only until its grants' next end."""
    for replica in (replicas.first, replicas.second):
        replica.server.clock.offset = 31 * 86_400  # the fixture's grants last 30 days; the token is checked
    try:
        response = await replicas.second.graphql(replicas.token, replicas.dpop_key)
    finally:
        for replica in (replicas.first, replicas.second):
            replica.server.clock.offset = 0
    assert response.status_code in (401, 403), response.text


async def test_without_its_change_counter_a_replica_reads_the_registry_afresh_and_still_refuses(
    replicas: Replicas,
) -> None:
    engine = replicas.first.server.parts.engine
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM registry_changes"))  # the counter's row is lost
    try:
        await (await replicas.first.registry()).set_status(replicas.client.client_id, "disabled")
        response = await replicas.second.graphql(replicas.token, replicas.dpop_key)
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO registry_changes (id, generation) VALUES (1, 1000)"))
    assert "disabled" in refused(response, 401, "invalid_token")


async def test_every_write_token_checks_read_moves_the_change_counter(replicas: Replicas) -> None:
    parts = replicas.first.server.parts
    registry = parts.registry
    moves = []
    before = await generation(parts.engine)
    for change in (
        lambda: registry.add_department("ecology", "Ecology"),
        lambda: replicas.first.grant(replicas.client.client_id, frozenset({"ecology.discharge_permit:read"})),
        lambda: registry.revoke_token("some-token-id", replicas.client.client_id, 2**40),
        lambda: parts.keyring.store.rotate(),
        lambda: registry.set_status(replicas.client.client_id, "disabled"),
    ):
        await change()
        after = await generation(parts.engine)
        moves.append(after > before)
        before = after
    assert moves == [True] * 5


async def test_a_kept_client_carries_the_change_counter_it_was_read_at_and_a_quota_raised_and_lowered_moves_it(
    replicas: Replicas,
) -> None:
    """What a replica's quota leases are checked against (``hub.fairuse.gate``): the same quota read at
    another counter is another reading, so a quota raised and lowered back elsewhere is seen here."""
    parts = replicas.second.server.parts
    claims = await parts.tokens.validate(replicas.token)
    _, kept = await parts.live.read(claims["jti"], claims["client_id"])
    assert kept is not None and kept.registry_seen == await generation(parts.engine)
    service = await replicas.first.grants()
    (grant, *_) = await service.grants(client_id=replicas.client.client_id, active_only=True)
    await service.set_quota(OPERATOR, grant.grant_id, 1000)
    await service.set_quota(OPERATOR, grant.grant_id, None)  # back as it was
    _, again = await parts.live.read(claims["jti"], claims["client_id"])
    assert again is not None and again.quotas == kept.quotas
    assert again.registry_seen == await generation(parts.engine) > kept.registry_seen
    async with parts.engine.begin() as connection:
        await connection.execute(text("DELETE FROM registry_changes"))  # the counter cannot be read
    try:
        _, unread = await parts.live.read(claims["jti"], claims["client_id"])
    finally:
        async with parts.engine.begin() as connection:
            await connection.execute(text("INSERT INTO registry_changes (id, generation) VALUES (1, 1000)"))
    assert unread is not None and unread.registry_seen is None


async def test_the_counter_read_straight_from_sqlite_sees_every_commit_and_reads_through_the_engine_when_busy(
    tmp_path: Path,
) -> None:
    path = tmp_path / "registry.sqlite"
    engine = connect(f"sqlite+aiosqlite:///{path}", timeout=0.2)
    reader = Generation(engine)
    try:
        await migrate(engine)
        first = await reader.read()
        assert first == await generation(engine)
        with closing(sqlite3.connect(path)) as other:  # another process's commit
            other.execute("UPDATE registry_changes SET generation = generation + 1 WHERE id = 1")
            other.commit()
        assert await reader.read() == first + 1
        reader.close()
        await engine.dispose()  # no connection of ours open while another takes the file
        holder = sqlite3.connect(path, isolation_level=None)
        try:  # a connection holding the file exclusively: the direct read gives up, the engine's read times out
            holder.execute("PRAGMA locking_mode=EXCLUSIVE")
            holder.execute("BEGIN EXCLUSIVE")
            with pytest.raises(OperationalError):  # SQLAlchemy's: read through the engine, which fails closed
                await reader.read()
        finally:
            holder.close()
        assert await reader.read() == first + 1  # the direct read again, on a new connection
    finally:
        reader.close()
        await engine.dispose()


class _HeldRegistry:
    """A registry whose answers are read when asked and delivered when the test lets them go."""

    def __init__(self) -> None:
        self.revoked: set[str] = set()
        self.status = "active"
        self.held: dict[str, asyncio.Event] = {}

    async def is_revoked(self, jti: str) -> bool:
        answer = jti in self.revoked
        if jti in self.held:
            await self.held[jti].wait()
        return answer

    async def client(self, client_id: str) -> ClientRecord:
        answer = ClientRecord(client_id, "market", client_id, self.status, (), {}, 0)
        if client_id in self.held:
            await self.held[client_id].wait()
        return answer


def _status(read: tuple[bool, ClientRecord | None]) -> tuple[bool, str | None]:
    revoked, record = read
    return revoked, None if record is None else record.status


async def test_a_read_made_before_a_change_and_finished_after_another_request_saw_it_is_not_kept(
    tmp_path: Path,
) -> None:
    """One request reads the counter and asks the registry; meanwhile a token is revoked and the client
    disabled, and another request sees the counter move. What the first read from before the change
    must not be kept under the new counter: the next request is refused."""
    path = tmp_path / "registry.sqlite"
    engine = connect(f"sqlite+aiosqlite:///{path}")
    registry = _HeldRegistry()
    live = LiveClients(registry, engine, lambda: 1_000)  # type: ignore[arg-type]
    try:
        await migrate(engine)
        registry.held = {"token-1": asyncio.Event(), "client-1": asyncio.Event()}
        # Two requests that have read the counter and wait on the registry's answers (read already).
        slow = [asyncio.ensure_future(live.read("token-1", "client-0")),
                asyncio.ensure_future(live.read("token-0", "client-1"))]
        for _ in range(20):
            await asyncio.sleep(0.01)
        registry.revoked.add("token-1")
        registry.status = "disabled"
        with closing(sqlite3.connect(path)) as other:  # the change's commit moves the counter
            other.execute("UPDATE registry_changes SET generation = generation + 1 WHERE id = 1")
            other.commit()
        assert _status(await live.read("token-2", "client-2")) == (False, "disabled")  # sees the counter move
        for held in registry.held.values():
            held.set()
        assert [_status(read) for read in await asyncio.gather(*slow)] == [(False, "disabled"), (False, "active")]
        assert _status(await live.read("token-1", "client-1")) == (True, "disabled")
    finally:
        live.close()
        await engine.dispose()
