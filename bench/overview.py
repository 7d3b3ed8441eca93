"""``python -m bench overview``: the console's overview page over a log of a million audit records.

Builds a production hub on a fresh SQLite registry and fills its log with ``--records`` records
spread over the last 30 days and 40 clients of four departments: all but the last ``--appended`` are
copied in SQL from one real record (the same row shape, two subjects each in the subject index, a
row per subject per block of 64 records, counted per hour and client in ``audit_usage``; not
chained: writing a million through ``append`` takes about 20 minutes here), then the last
``--appended`` go through ``AuditStore.append`` onto that head (hash-chained, sealed every 1,000,
counted as the hub counts them), so the chain since the last seal, which the overview checks, is
real. Then it signs in as an operator and times ``GET /admin/`` in-process (httpx over ASGI: the
page's own work, no network), the median and the slowest of ``--runs`` requests after one warm-up.
The page must answer in under 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from hub.accounts.store import Accounts
from hub.app import create_app
from hub.audit import Disclosure, SubjectDisclosure, operation_hash
from hub.settings import load_settings
from hub.store.sealing import new_key_encryption_key

ORIGIN = "https://hub.bench"
PASSWORD = "benchmark password 1"
CLIENTS = [f"{d}-{n:02d}" for d in ("market", "ecology", "taxation", "security") for n in range(10)]
TARGET_MS = 300.0


def record(n: int, now: dt.datetime, total: int) -> Disclosure:
    """Record ``n`` of ``total``, oldest first over 30 days, two subjects each."""
    at = now - dt.timedelta(days=30) + dt.timedelta(days=30) * n / total
    client = CLIENTS[n % len(CLIENTS)]
    return Disclosure(
        request_id=f"bench-{n}", client_id=client, department=client.split("-")[0], end_user=f"officer-{n % 50}",
        purpose="licensing", case_number=f"CASE-{n:08d}", operation_name="Enterprise",
        operation_hash=operation_hash("{ enterprise { name } }"),
        subjects=(SubjectDisclosure(f"enterprise:{n % 5000:018d}", {"name": "allow"}),
                  SubjectDisclosure(f"person:{n % 3000:064x}", {"name": "mask"})),
        time=at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    )


COPY = """
WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < :last)
INSERT INTO audit_records (seq, time, request_id, client_id, department, end_user, purpose, case_number,
                           operation_name, operation_hash, subjects, layout, prev_hash, hash, mac)
SELECT i, strftime('%Y-%m-%dT%H:%M:%S.000000Z', :start + i * :step, 'unixepoch'), 'bench-' || i,
       c.client_id, c.department, end_user, purpose, 'CASE-' || i, operation_name, operation_hash, subjects,
       layout, printf('%064d', i - 1), printf('%064d', i), mac
FROM n JOIN bench_clients c ON c.id = i % 40, (SELECT * FROM audit_records WHERE seq = 1) AS t
"""
INDEX = """
INSERT OR IGNORE INTO audit_subjects (subject_key, block)
SELECT (seq % 5000) * 2 + 1, seq >> 6 FROM audit_records WHERE seq > 1  -- block: seq // SUBJECT_BLOCK (64)
UNION ALL SELECT (seq % 3000) * 2 + 2, seq >> 6 FROM audit_records WHERE seq > 1
"""
COUNT = """
INSERT INTO audit_usage (hour, client_id, department, records, subjects)
SELECT substr(time, 1, 13), client_id, department, count(*), 2 * count(*) FROM audit_records WHERE seq > 1
GROUP BY 1, 2, 3
ON CONFLICT (hour, client_id) DO UPDATE SET records = records + excluded.records,
                                            subjects = subjects + excluded.subjects
"""


async def copied(store: Any, total: int) -> None:
    """Records 2..``total`` copied from record 1 in SQL (SQLite), the head moved onto the last."""
    from sqlalchemy import text

    now = dt.datetime.now(dt.UTC)
    start = (now - dt.timedelta(days=30)).timestamp()
    async with store.engine.begin() as conn:
        await conn.execute(text("CREATE TEMP TABLE bench_clients (id INTEGER, client_id TEXT, department TEXT)"))
        for n, client in enumerate(CLIENTS):
            await conn.execute(text("INSERT INTO bench_clients VALUES (:n, :c, :d)"),
                               {"n": n, "c": client, "d": client.split("-")[0]})
        await conn.execute(text(COPY), {"last": total, "start": start, "step": 30 * 86400 / total * 0.99})
        await conn.execute(text(INDEX))
        await conn.execute(text(COUNT))
        await conn.execute(text("UPDATE audit_head SET seq = :n, hash = printf('%064d', :n) WHERE id = 1"),
                           {"n": total})
        await conn.execute(text("UPDATE audit_index SET seq = :n WHERE id = 1"), {"n": total})  # indexed above


async def fill(store: Any, total: int, appended: int, writers: int = 64) -> float:
    """``total`` records: one appended, copied up to ``total - appended``, then ``appended`` appended."""
    started = time.perf_counter()
    now = dt.datetime.now(dt.UTC)
    await store.append(record(1, now - dt.timedelta(days=30), 1))
    await copied(store, total - appended)
    await append(store, range(total - appended + 1, total + 1), now, total, writers)
    return time.perf_counter() - started


async def append(store: Any, numbers: range, now: dt.datetime, total: int, writers: int) -> None:
    """Appends records ``numbers`` with ``writers`` concurrent appenders (grouped by the store)."""
    queue = iter(numbers)

    async def writer() -> None:
        for n in queue:
            await store.append(record(n, now, total))

    await asyncio.gather(*(writer() for _ in range(writers)))


async def measure(database_url: str, total: int, appended: int, runs: int) -> dict[str, float]:
    # A production hub of the bench's own: its own pseudonym key, its registry migrated at start-up.
    os.environ.setdefault("HUB_APPLICANT_PSEUDONYM_KEY", f"bench-{uuid.uuid4().hex}")
    os.environ.setdefault("HUB_MIGRATE_AT_START", "true")
    settings = load_settings(environment="production", issuer=ORIGIN, database_url=database_url,
                             key_encryption_key=new_key_encryption_key(), single_process=True)
    app = create_app(settings)
    hub = app.state.hub
    await hub.database.open()
    parts = hub.oauth.parts
    await Accounts(parts.engine).create("olga", "Olga", "operator", PASSWORD)
    store = hub.disclosures.store
    filled = await fill(store, total, appended)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN,
                                 headers={"origin": ORIGIN}) as http:
        page = await http.get("/admin/signin")
        csrf = page.text.split('name="csrf" value="')[2].split('"')[0]
        signed = await http.post("/admin/signin", data={"csrf": csrf, "username": "olga", "password": PASSWORD})
        assert signed.status_code == 303, signed.text
        times = []
        for _ in range(runs + 1):
            started = time.perf_counter()
            answer = await http.get("/admin/")
            times.append((time.perf_counter() - started) * 1000)
            tile = answer.text.split('id="tile-chain"')[1].split("</div>")[0]
            assert answer.status_code == 200 and '<span class="figure">✓</span>' in tile, tile  # intact
    await hub.aclose()
    return {"records": total, "fill_seconds": filled, "median_ms": statistics.median(times[1:]),
            "max_ms": max(times[1:])}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench overview", description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--appended", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / f'bench-{uuid.uuid4().hex[:6]}.sqlite'}"
        result = asyncio.run(measure(url, args.records, args.appended, args.runs))
    print(f"overview over {result['records']:,} audit records (written in {result['fill_seconds']:.0f} s): "
          f"median {result['median_ms']:.1f} ms, slowest {result['max_ms']:.1f} ms of {args.runs} "
          f"(target < {TARGET_MS:.0f} ms)")
    return 0 if result["max_ms"] < TARGET_MS else 1
