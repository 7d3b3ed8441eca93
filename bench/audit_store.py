"""``python -m bench audit``: the disclosure audit's store alone, on SQLite and on PostgreSQL.

Throughput: 16 concurrent writers in 2 OS processes (8 each, as two replicas) append records about
100 subjects for a few seconds to one log; appends per second over both. Size: the audit tables'
bytes on disk per record for records shaped like the bench's scenarios A (100 licences with holder
and legal representative: 100 enterprises and 100 persons) and C (1,000 enterprises, five fields).
Verification: ``verify`` over the log, in records per second. ``--group 1`` writes one record per
transaction (each append taking the lock and the flush alone, as the hub did before group commit),
so both are measured on the same code in one run. The workers use only ``AuditStore(engine, keys,
seal_every=...)`` and ``append``, so the same file also measures an older hub's store.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import text

from hub.audit import AuditKeys, AuditStore, Disclosure, SubjectDisclosure, SubjectGroup, operation_hash, verify
from hub.audit.records import now_iso
from hub.demo.ids import organisation_check, uscc
from hub.identifiers.id_number import id_check_char
from hub.store import Sealer, connect, migrate
from hub.store.sealing import decode_key, new_key_encryption_key

POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/"
ENTERPRISE_FIELDS = ("Enterprise.uscc", "Enterprise.name", "Enterprise.status", "Enterprise.type",
                     "Enterprise.registeredCapital")  # fmt: skip
LICENCE_FIELDS = ("FoodBusinessLicence.number", "FoodBusinessLicence.validTo", "FoodBusinessLicence.holder",
                  "Enterprise.name", "Enterprise.legalRepresentative")  # fmt: skip


def enterprise(n: int) -> str:
    body = f"MA{n % 1_000_000:06d}"
    return uscc("91", "330100", body + organisation_check(body))


def person(n: int) -> str:
    first17 = f"3301021980{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return first17 + id_check_char(first17)


def shaped(store: AuditStore, shape: str, n: int) -> Disclosure:
    """Record ``n`` of a shape: ``store`` (100 enterprises), ``A``, ``B`` or ``C``; subjects vary with ``n``."""
    make = store.pseudonyms
    if shape == "C":
        subjects = [SubjectDisclosure(make.enterprise(enterprise(n + i)), dict.fromkeys(ENTERPRISE_FIELDS, "allow"))
                    for i in range(1000)]
    elif shape == "A":
        subjects = [SubjectDisclosure(make.enterprise(enterprise(n + i)), dict.fromkeys(LICENCE_FIELDS, "allow"))
                    for i in range(100)]
        subjects += [SubjectDisclosure(make.person(person(n + i)), {"Person.name": "allow"}) for i in range(100)]
    elif shape == "B":  # one enterprise with its licences' fields
        subjects = [SubjectDisclosure(make.enterprise(enterprise(n % 50)), dict.fromkeys(LICENCE_FIELDS, "allow"))]
    else:
        subjects = [SubjectDisclosure(make.enterprise(enterprise(n + i)), dict.fromkeys(ENTERPRISE_FIELDS, "allow"))
                    for i in range(100)]
    return Disclosure(
        request_id=f"bench-{uuid.uuid4().hex[:16]}", client_id="bench-licensing", department="market",
        purpose="licensing", operation_hash=operation_hash(f"query Bench{shape} {{ x }}"),
        operation_name=f"Bench{shape}", case_number=f"TS-2026-{n:06d}", subjects=tuple(subjects),
    )  # fmt: skip


def open_store(url: str, kek: str, group: int | None) -> AuditStore:
    keys = AuditKeys.from_sealer(Sealer(decode_key(kek)))
    kwargs: dict[str, Any] = {"seal_every": 1000}
    if group is not None and "max_group" in inspect.signature(AuditStore).parameters:
        kwargs["max_group"] = group
    return AuditStore(connect(url), keys, **kwargs)


async def work(url: str, kek: str, writers: int, seconds: float, start: float, group: int | None) -> int:
    """One process: ``writers`` tasks appending 100-subject records until ``start + seconds``."""
    store = open_store(url, kek, group)
    records = [shaped(store, "store", n * 7) for n in range(64)]
    await asyncio.sleep(max(0.0, start - time.time()))
    deadline, count = start + seconds, 0
    if time.time() >= deadline:  # not a throughput of 0: this process was not up within its head start
        raise SystemExit(f"bench audit: a worker came up {time.time() - start:.1f} s after the appending began, "
                         f"past its {seconds} s: the machine is too busy; give more --seconds")

    async def writer(offset: int) -> None:
        nonlocal count
        n = offset
        while time.time() < deadline:
            base = records[n % len(records)]
            await store.append(Disclosure(**{**_fields(base), "request_id": f"bench-{os.getpid()}-{n}"}))
            count += 1
            n += writers

    try:
        await asyncio.gather(*(writer(i) for i in range(writers)))
    finally:
        await store.engine.dispose()
    return count


def _fields(item: Disclosure) -> dict[str, Any]:
    return {name: getattr(item, name) for name in item.__dataclass_fields__}


async def database(backend: str, folder: Path) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{folder / f'audit-{uuid.uuid4().hex[:6]}.sqlite'}"
    name = f"bench_audit_{uuid.uuid4().hex[:8]}"
    admin = connect(POSTGRES + "postgres")
    async with admin.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return POSTGRES + name


async def drop(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    admin = connect(POSTGRES + "postgres")
    async with admin.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    await admin.dispose()


def throughput(url: str, kek: str, args: argparse.Namespace) -> float:
    start = time.time() + 3.0  # both interpreters up and connected by then
    command = [sys.executable, "-m", "bench.audit_store", "--worker", url, kek, str(args.writers // 2),
               str(args.seconds), str(start), str(args.group or 0)]  # fmt: skip
    workers = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [process.communicate(timeout=args.seconds + 120)[0] for process in workers]
    if any(process.returncode for process in workers):
        raise SystemExit("an appending process failed")
    return sum(int(output) for output in outputs) / args.seconds


async def table_bytes(store: AuditStore) -> int:
    async with store.engine.connect() as conn:
        if store.sqlite:
            query = "SELECT sum(pgsize) FROM dbstat WHERE name LIKE '%audit_records%' OR name LIKE '%audit_subjects%'"
        else:
            query = ("SELECT pg_total_relation_size('audit_records')"  # its subject keys' GIN index included
                     " + coalesce(pg_total_relation_size(to_regclass('audit_subjects')), 0)")  # before 0017
        return int((await conn.execute(text(query))).scalar_one())


async def sized(backend: str, folder: Path, kek: str, shape: str, count: int, *, rebuilt: bool = False) -> float:
    """Bytes on disk per record of a shape. ``rebuilt`` (PostgreSQL): with the subject keys' GIN index
    rebuilt. Until VACUUM merges it, GIN keeps new entries in a pending list (at most
    ``gin_pending_list_limit``, 4 MB) whose pages stay in the index file afterwards, free for the next
    list: a few dozen records carry those 4 MB, which a long log shares. Rebuilt, the index holds
    only the log's own entries."""
    url = await database(backend, folder)
    store = open_store(url, kek, None)
    try:
        await migrate(store.engine)
        before = await table_bytes(store)
        for n in range(count):
            await store.append(shaped(store, shape, n * 11))
        if hasattr(store, "index_subjects"):  # SQLite: the index rows written in batches after the records
            await store.index_subjects()
        if not store.sqlite:
            async with store.engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("VACUUM ANALYZE audit_records"))
                if rebuilt:
                    await conn.execute(text("REINDEX INDEX ix_audit_records_subject_keys"))
        return (await table_bytes(store) - before) / count
    finally:
        await store.engine.dispose()
        await drop(url)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    kek = new_key_encryption_key()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="hub-bench-audit-") as tmp:
        for backend in args.backends:
            url = await database(backend, Path(tmp))
            store = open_store(url, kek, None)
            try:
                await migrate(store.engine)
                rate = throughput(url, kek, args)
                began = time.perf_counter()
                report = await verify(store)
                took = time.perf_counter() - began
                if not report.intact:
                    raise SystemExit(f"{backend}: the log does not verify: {report.findings[:3]}")
                results[backend] = {
                    "appends_per_second": round(rate), "records": report.records,
                    "verify_records_per_second": round(report.records / took),
                    "bytes_per_record_A": round(await sized(backend, Path(tmp), kek, "A", args.sized)),
                    "bytes_per_record_C": round(await sized(backend, Path(tmp), kek, "C", args.sized)),
                }  # fmt: skip
                if backend == "postgres" and args.compact:
                    for shape in ("A", "C"):
                        size = await sized(backend, Path(tmp), kek, shape, args.sized, rebuilt=True)
                        results[backend][f"bytes_per_record_{shape}_gin_rebuilt"] = round(size)
            finally:
                await store.engine.dispose()
                await drop(url)
    return results


async def verify_speed(backend: str, folder: Path, kek: str, count: int) -> dict[str, Any]:
    """``verify`` over ``count`` one-subject records (a cached B request's record), full and from
    the last seal (sealed every 1,000). The log is built in bulk (``built``): real records, hashes,
    MACs, index and seals, written in large batches rather than appended one by one."""
    url = await database(backend, folder)
    store = open_store(url, kek, None)
    try:
        await migrate(store.engine)
        began = time.perf_counter()
        await built(store, count)
        build = time.perf_counter() - began
        began, cpu = time.perf_counter(), time.process_time()
        report = await verify(store)
        full, full_cpu = time.perf_counter() - began, time.process_time() - cpu
        began = time.perf_counter()
        since = await verify(store, since_seal=(await store.last_sealed_seq()) or 0)
        incremental = time.perf_counter() - began
        if not (report.intact and since.intact) or report.records != count:
            raise SystemExit(f"{backend}: the log does not verify: {report.records} {report.findings[:3]}")
        # CPU seconds: this process's own (its threads' too); on a shared machine wall time also counts waiting.
        return {"records": report.records, "build_seconds": round(build, 1), "full_seconds": round(full, 2),
                "full_cpu_seconds": round(full_cpu, 2), "since_last_seal_seconds": round(incremental, 3),
                "records_per_second": round(report.records / full)}
    finally:
        await store.engine.dispose()
        await drop(url)


async def built(store: AuditStore, count: int, *, chunk: int = 20_000, seal_every: int = 1000) -> None:
    """``count`` one-subject records chained from the genesis, written ``chunk`` at a time with their
    index (SQLite rows and mark; PostgreSQL arrays), a seal every ``seal_every`` and the head."""
    from hub.audit.chain import GENESIS, link
    from hub.audit.records import canonical_json_v2, subject_key
    from hub.audit.seals import write_seal
    from hub.audit.sqlite_writer import RECORD_COLUMNS
    from hub.audit.tables import block_of

    base = shaped(store, "store", 0)
    header = Disclosure(**{**_fields(base), "subjects": (), "groups": (SubjectGroup(ENTERPRISE_SET, ("",)),)}).stored()
    columns = [*RECORD_COLUMNS, "subject_keys"]
    prev, done = GENESIS, 0
    async with store.engine.begin() as conn:
        while done < count:
            rows, index, seals = [], [], []
            first, done = done + 1, min(count, done + chunk)
            for seq in range(first, done + 1):
                ref = base.subjects[seq % 100].subject
                values = {**header, "request_id": f"v-{seq}",
                          "subjects": [{"fields": ENTERPRISE_SET, "subjects": [ref]}]}
                record_hash = link(prev, canonical_json_v2(values))
                key = subject_key(ref)
                record = {**values, "seq": seq, "prev_hash": prev, "hash": record_hash,
                          "mac": store.keys.row_mac(record_hash), "subjects": orjson.dumps(values["subjects"]).decode(),
                          "subject_keys": None if store.sqlite else [key]}
                rows.append(tuple(record.get(column) for column in columns))
                index.append((key, block_of(seq)))
                if seq % seal_every == 0:
                    seals.append((seq, record_hash))
                prev = record_hash
            if store.sqlite:
                marks = ", ".join("?" * len(columns))
                await conn.exec_driver_sql(f"INSERT INTO audit_records ({', '.join(columns)}) VALUES ({marks})", rows)
                await conn.exec_driver_sql(
                    "INSERT OR IGNORE INTO audit_subjects (subject_key, block) VALUES (?, ?)", index
                )
            else:
                raw = await conn.get_raw_connection()
                await raw.driver_connection.copy_records_to_table("audit_records", records=rows, columns=columns)
            for at, record_hash in seals:
                await write_seal(conn, store.keys.sealer, at, record_hash, now_iso())
        await conn.execute(text("UPDATE audit_head SET seq = :seq, hash = :hash, mac = :mac WHERE id = 1"),
                           {"seq": done, "hash": prev, "mac": store.keys.head_mac(done, prev)})
        if store.sqlite:
            await conn.execute(text("UPDATE audit_index SET seq = :seq WHERE id = 1"), {"seq": done})


ENTERPRISE_SET = dict.fromkeys(ENTERPRISE_FIELDS, "allow")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--worker"]:
        url, kek, writers, seconds, start, group = argv[1:7]
        print(asyncio.run(work(url, kek, int(writers), float(seconds), float(start), int(group) or None)))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench audit", description=__doc__)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"])
    parser.add_argument("--writers", type=int, default=16, help="concurrent writers over 2 processes (default 16)")
    parser.add_argument("--seconds", type=float, default=8.0, help="appending time (default 8)")
    parser.add_argument("--group", type=int, default=None, help="records per transaction at most (1: no grouping)")
    parser.add_argument("--sized", type=int, default=30, help="records written per shape to measure bytes (30)")
    parser.add_argument("--compact", action="store_true",
                        help="PostgreSQL: also bytes per record with the GIN index rebuilt (no pending-list pages)")
    parser.add_argument("--verify", type=int, metavar="N",
                        help="instead: time verify over N one-subject records on each backend")
    parser.add_argument("--pages", type=int, nargs="+", metavar="G",
                        help="instead: SQLite write-ahead-log pages and CPU per record, appending groups of G "
                             "one-enterprise records (e.g. --pages 1 4 8)")
    args = parser.parse_args(argv)
    if args.pages:
        if min(args.pages) < 1 or max(args.pages) > 64:
            parser.error("--pages: a group of 1 to 64 records")
        with tempfile.TemporaryDirectory(prefix="hub-bench-audit-") as tmp:
            kek = new_key_encryption_key()
            print(json.dumps([asyncio.run(pages(Path(tmp), kek, g)) for g in args.pages], indent=2))
        return 0
    if args.verify:
        results = asyncio.run(_verify_all(args))
        print(json.dumps(results, indent=2))
        return 0
    results = asyncio.run(run(args))
    print(json.dumps(results, indent=2))
    return 0


async def pages(folder: Path, kek: str, group: int) -> dict[str, Any]:
    """``--pages G``: what one group of G one-enterprise records (as scenario B's) writes on an SQLite
    file: pages appended to the write-ahead log (each page a write and part of the group's flush, so
    the B-trees a record touches show here) and the process's CPU per record (every thread). Groups
    are appended one after another (G appends at once, so the store writes them as one group) after
    a warm-up of 500 records; the subject index's batch runs before the count starts and not during
    it (fewer than its 256 records, well under its one-second wait on a quiet disk). Byte-for-byte
    the same each run: the pages are the figure to compare; the CPU moves with the machine's load."""
    url = f"sqlite+aiosqlite:///{folder / f'pages-{group}.sqlite'}"
    store = open_store(url, kek, None)
    await migrate(store.engine)
    counted = 64 * group if group < 3 else 192  # records: under the WAL's own checkpoint (1,000 pages)
    try:
        n = 0

        async def groups(count: int) -> None:
            nonlocal n
            for _ in range(count):
                await asyncio.gather(*(store.append(shaped(store, "B", n + i)) for i in range(group)))
                n += group

        await groups(max(1, 500 // group))
        await store.index_subjects()
        side = sqlite3.connect(folder / f"pages-{group}.sqlite")
        side.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        before = os.times()
        await groups(counted // group)
        after = os.times()
        frames = side.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
        side.close()
        records = counted // group * group
        cpu = (after.user - before.user + after.system - before.system) * 1000 / records
        written = counted // group
        return {"group": group, "groups": written, "wal_pages_per_group": round(frames / written, 2),
                "wal_pages_per_record": round(frames / records, 2), "cpu_ms_per_record": round(cpu, 3)}
    finally:
        await store.aclose()
        await store.engine.dispose()


async def _verify_all(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hub-bench-audit-") as tmp:
        kek = new_key_encryption_key()
        return {backend: await verify_speed(backend, Path(tmp), kek, args.verify) for backend in args.backends}


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
