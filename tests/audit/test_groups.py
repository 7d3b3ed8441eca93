"""Group commit: concurrent appends share one transaction, and a group that cannot be written fails
every request in it. On SQLite and on PostgreSQL.

A record the database refuses is made with a trigger, as a constraint or a full disk would refuse
it: the whole group's transaction is rolled back, so none of its requests may answer.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from hub.audit import AuditStore, AuditWriteFailed, verify
from hub.audit.groups import Committed, GroupCommit, GroupFailed
from hub.audit.records import Disclosure
from tests.audit.conftest import disclosure

POISON = "poisoned-request"
SQLITE_TRIGGER = (
    "CREATE TRIGGER refuse_poison BEFORE INSERT ON audit_records WHEN NEW.request_id = 'poisoned-request' "
    "BEGIN SELECT RAISE(ABORT, 'the database refused this record'); END"
)
POSTGRES_TRIGGER = (
    "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF NEW.request_id = 'poisoned-request' THEN RAISE EXCEPTION 'the database refused this record'; END IF; "
    "RETURN NEW; END $$",
    "CREATE TRIGGER refuse_poison BEFORE INSERT ON audit_records FOR EACH ROW EXECUTE FUNCTION refuse_poison()",
)


async def refuse_poison(store: AuditStore) -> None:
    async with store.engine.begin() as conn:
        for statement in (SQLITE_TRIGGER,) if store.sqlite else POSTGRES_TRIGGER:
            await conn.execute(text(statement))


async def recorded_request_ids(store: AuditStore) -> set[str]:
    async with store.engine.connect() as conn:
        return set((await conn.execute(text("SELECT request_id FROM audit_records"))).scalars())


async def test_concurrent_appends_are_written_in_fewer_transactions_than_records(store: AuditStore) -> None:
    items = [disclosure(store, n) for n in range(1, 201)]
    seqs = await asyncio.gather(*(store.append(item) for item in items))
    assert sorted(seqs) == list(range(1, 201))
    assert store.groups.groups < 20 and store.groups.largest > 10, (store.groups.groups, store.groups.largest)
    report = await verify(store)
    assert report.intact, report.findings
    assert report.records == 200 and report.seals == 50  # sealed at every 4th record, groups or not


async def test_records_are_chained_in_the_order_they_were_handed_in(store: AuditStore) -> None:
    items = [disclosure(store, n) for n in range(1, 31)]
    seqs = await asyncio.gather(*(store.append(item) for item in items))
    assert seqs == list(range(1, 31))
    async with store.engine.connect() as conn:
        ordered = (await conn.execute(text("SELECT request_id FROM audit_records ORDER BY seq"))).scalars().all()
    assert ordered == [item.request_id for item in items]


async def test_a_group_the_database_refuses_fails_every_request_in_it_and_records_none(store: AuditStore) -> None:
    await refuse_poison(store)
    await store.append(disclosure(store, 1))  # a group of its own, before
    group = [disclosure(store, n) for n in range(2, 12)]
    group.insert(5, _poisoned(store))
    outcomes = await asyncio.gather(*(store.append(item) for item in group), return_exceptions=True)
    assert all(isinstance(outcome, AuditWriteFailed) for outcome in outcomes), outcomes
    recorded = await recorded_request_ids(store)
    assert not recorded & {item.request_id for item in group}
    after = await store.append(disclosure(store, 50))  # the chain goes on from where it was
    assert after == 2
    report = await verify(store)
    assert report.intact and report.records == 2, report.findings


def _poisoned(store: AuditStore) -> Disclosure:
    item = disclosure(store, 99)
    return Disclosure(**{name: getattr(item, name) for name in Disclosure.__dataclass_fields__} | {"request_id": POISON})


async def test_a_refused_group_does_not_fail_the_groups_after_it(store: AuditStore) -> None:
    await refuse_poison(store)
    first = asyncio.gather(store.append(_poisoned(store)), *(store.append(disclosure(store, n)) for n in range(3)),
                           return_exceptions=True)
    while store.groups.groups == 0 or store.groups.waiting:  # the first group taken: the next arrive after it
        await asyncio.sleep(0.001)
    later = [disclosure(store, n) for n in range(10, 20)]
    second = asyncio.gather(*(store.append(item) for item in later), return_exceptions=True)
    failed, written = await first, await second
    assert all(isinstance(outcome, AuditWriteFailed) for outcome in failed)
    assert all(isinstance(outcome, int) for outcome in written), written
    assert {item.request_id for item in later} <= await recorded_request_ids(store)
    assert (await verify(store)).intact


@pytest.mark.postgres
async def test_a_group_that_waits_past_the_write_timeout_fails_closed(
    audit_postgres_url: str, key_encryption_key: str
) -> None:
    """PostgreSQL: another writer holding the chain's lock (a stalled replica) costs at most the bound."""
    from hub.store import migrate
    from tests.audit.conftest import make_store

    audit_url = audit_postgres_url
    store = make_store(audit_url, key_encryption_key)
    store.write_timeout, store.stall_timeout = 1.0, 0.5
    await migrate(store.engine)
    holder = make_store(audit_url, key_encryption_key)
    try:
        async with holder.locked() as conn:  # another writer holds the chain's lock and does not let go
            await conn.execute(holder._head_query())
            with pytest.raises(AuditWriteFailed):
                await store.append(disclosure(store, 1))
        assert await store.append(disclosure(store, 2)) == 1  # the lock free again: appends go on
    finally:
        await holder.engine.dispose()
        await store.engine.dispose()


async def test_a_gateways_declaration_is_stored_with_its_record_and_chained(store: AuditStore) -> None:
    item = disclosure(store, 1)
    declared = Disclosure(**{name: getattr(item, name) for name in Disclosure.__dataclass_fields__}
                          | {"gateway": "province-gateway", "origin_client": "market-a1", "origin_proven": True})
    await asyncio.gather(store.append(declared), store.append(disclosure(store, 2)))
    async with store.engine.connect() as conn:
        row = (await conn.execute(text(
            "SELECT gateway, origin_client, origin_proven FROM audit_records WHERE request_id = :r"
        ), {"r": declared.request_id})).one()
    assert (row.gateway, row.origin_client, bool(row.origin_proven)) == ("province-gateway", "market-a1", True)
    report = await verify(store)
    assert report.intact and report.records == 2, report.findings


async def _sqlite_file_store(tmp_path: Path, key_encryption_key: str, write_timeout: float) -> tuple[AuditStore, Path]:
    from hub.audit import AuditKeys
    from hub.store import Sealer, connect, migrate
    from hub.store.sealing import decode_key

    path = tmp_path / "hub.sqlite"
    keys = AuditKeys.from_sealer(Sealer(decode_key(key_encryption_key)))
    store = AuditStore(connect(f"sqlite+aiosqlite:///{path}"), keys, stall_timeout=0.1, write_timeout=write_timeout)
    await migrate(store.engine)
    return store, path


async def test_an_sqlite_group_waits_for_another_processs_write_lock_and_goes_in_once_it_is_free(
    tmp_path: Path, key_encryption_key: str
) -> None:
    store, path = await _sqlite_file_store(tmp_path, key_encryption_key, write_timeout=10.0)
    other = sqlite3.connect(path, isolation_level=None)  # as another hub process on the same file
    try:
        other.execute("BEGIN IMMEDIATE")
        appending = asyncio.ensure_future(store.append(disclosure(store, 1)))
        await asyncio.sleep(0.3)
        assert not appending.done()  # nothing is written, nor answered, while the other holds the lock
        other.execute("COMMIT")
        assert await appending == 1
        assert (await verify(store)).intact
    finally:
        other.close()
        await store.aclose()
        await store.engine.dispose()


async def test_an_sqlite_group_that_cannot_take_the_write_lock_within_the_write_timeout_fails_closed(
    tmp_path: Path, key_encryption_key: str
) -> None:
    store, path = await _sqlite_file_store(tmp_path, key_encryption_key, write_timeout=0.5)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(AuditWriteFailed, match="locked"):
            await store.append(disclosure(store, 1))
        other.execute("ROLLBACK")
        assert await store.append(disclosure(store, 2)) == 1  # the lock free again: appends go on
        report = await verify(store)
        assert report.intact and report.records == 1, report.findings
    finally:
        other.close()
        await store.aclose()
        await store.engine.dispose()


async def _writer_started(commit: GroupCommit[int, str]) -> None:
    while commit.groups == 0:
        await asyncio.sleep(0)


async def test_items_that_arrive_while_the_writer_waits_for_its_lock_join_its_group() -> None:
    lock = asyncio.Event()
    written: list[list[int]] = []

    async def write(take: Callable[[], Sequence[int]]) -> list[str]:
        await lock.wait()  # the database's lock, held elsewhere
        group = list(take())
        written.append(group)
        return [f"seq-{item}" for item in group]

    commit: GroupCommit[int, str] = GroupCommit(write, max_items=3)
    first = asyncio.ensure_future(commit.submit(1))
    await _writer_started(commit)
    later = [asyncio.ensure_future(commit.submit(n)) for n in (2, 3, 4, 5)]
    lock.set()
    assert await asyncio.gather(first, *later) == ["seq-1", "seq-2", "seq-3", "seq-4", "seq-5"]
    assert written == [[1, 2, 3], [4, 5]]  # in the order handed in, at most max_items a group
    assert (commit.groups, commit.largest, commit.waiting) == (2, 3, 0)


async def test_a_write_that_fails_before_taking_its_group_fails_only_what_waited_when_it_began() -> None:
    lock = asyncio.Event()
    written: list[list[int]] = []

    async def write(take: Callable[[], Sequence[int]]) -> list[str]:
        if not written:
            written.append([])
            await lock.wait()
            raise OSError("the lock was never had")
        group = list(take())
        written.append(group)
        return [f"seq-{item}" for item in group]

    commit: GroupCommit[int, str] = GroupCommit(write, max_items=8)
    first = [asyncio.ensure_future(commit.submit(n)) for n in (1, 2)]
    await _writer_started(commit)
    later = [asyncio.ensure_future(commit.submit(n)) for n in (3, 4)]
    lock.set()
    outcomes = await asyncio.gather(*first, *later, return_exceptions=True)
    assert [type(outcome) for outcome in outcomes[:2]] == [GroupFailed, GroupFailed]
    assert isinstance(outcomes[0], GroupFailed) and isinstance(outcomes[0].__cause__, OSError)
    assert outcomes[2:] == ["seq-3", "seq-4"]
    assert written == [[], [3, 4]]


async def test_appends_that_arrive_while_the_chain_is_locked_elsewhere_join_the_waiting_group(
    store: AuditStore, key_encryption_key: str
) -> None:
    """Another process's (SQLite file) or replica's (PostgreSQL) transaction holds the chain's lock:
    the group waiting for it takes, once it has the lock, the records handed in meanwhile."""
    await store.append(disclosure(store, 0))
    before = store.groups.groups
    items = [disclosure(store, n) for n in range(1, 6)]
    async with _chain_locked_elsewhere(store, key_encryption_key):
        first = asyncio.ensure_future(store.append(items[0]))
        while store.groups.groups == before:
            await asyncio.sleep(0)
        await asyncio.sleep(0.05)  # the writer is waiting for the lock
        later = [asyncio.ensure_future(store.append(item)) for item in items[1:]]
        await asyncio.sleep(0.05)
    assert await asyncio.gather(first, *later) == [2, 3, 4, 5, 6]
    assert store.groups.groups == before + 1 and store.groups.largest == 5
    async with store.engine.connect() as conn:
        ordered = (await conn.execute(text("SELECT request_id FROM audit_records ORDER BY seq"))).scalars().all()
    assert ordered[1:] == [item.request_id for item in items]
    assert (await verify(store)).intact


@asynccontextmanager
async def _chain_locked_elsewhere(store: AuditStore, key_encryption_key: str) -> AsyncIterator[None]:
    if store.sqlite:
        other = sqlite3.connect(str(store.engine.url.database), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # the file's write lock, as another hub process holds it
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    from tests.audit.conftest import make_store

    holder = make_store(str(store.engine.url.render_as_string(hide_password=False)), key_encryption_key)
    try:
        async with holder.locked() as conn:  # another replica's group, holding the head row
            await conn.execute(holder._head_query())
            yield
    finally:
        await holder.engine.dispose()


async def test_a_caller_that_gives_up_leaves_its_item_in_the_group_and_the_others_get_their_results() -> None:
    lock = asyncio.Event()
    written: list[list[int]] = []

    async def write(take: Callable[[], Sequence[int]]) -> Committed[str]:
        await lock.wait()
        group = list(take())
        written.append(group)
        return Committed([f"seq-{item}" for item in group], lock.wait())

    commit: GroupCommit[int, str] = GroupCommit(write, max_items=8)
    first = asyncio.ensure_future(commit.submit(1))
    await _writer_started(commit)
    gave_up, last = asyncio.ensure_future(commit.submit(2)), asyncio.ensure_future(commit.submit(3))
    await asyncio.sleep(0)
    gave_up.cancel()  # its request timed out while its record waited
    lock.set()
    assert await asyncio.gather(first, last) == ["seq-1", "seq-3"]
    await commit.settled()
    assert gave_up.cancelled()
    assert written == [[1, 2, 3]]  # the record of an executed operation is kept all the same


async def test_a_group_already_durable_when_its_write_returns_is_released_at_once_or_failed_whole() -> None:
    durable: list[asyncio.Future[None]] = []

    async def write(take: Callable[[], Sequence[int]]) -> Committed[str]:
        group = list(take())
        done = asyncio.get_running_loop().create_future()  # flushed with its commit (the writer thread's own)
        if group[0] == 1:
            done.set_result(None)
        else:
            done.set_exception(OSError("flush failed"))
        durable.append(done)
        return Committed([f"seq-{item}" for item in group], done)

    commit: GroupCommit[int, str] = GroupCommit(write, max_items=8)
    assert await commit.submit(1) == "seq-1"
    assert not commit._settling  # released without a callback waiting for it
    failing = [asyncio.ensure_future(commit.submit(n)) for n in (2, 3)]
    for task in failing:
        with pytest.raises(GroupFailed, match="flush failed"):
            await task
    assert len(durable) == 2 and commit.groups == 2
