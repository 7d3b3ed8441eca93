"""What an auditor's who-accessed and subject search cost on SQLite: ``python -m bench.who_accessed``.

Two logs in a temporary directory: "sparse", 20,000 one-subject records (``audit_store.built``: 100
enterprises in turn, so a subject is in every 100th record, 200 hits), and "dense", 1,280 records
each naming the same 100 enterprises (1,280 hits), appended by the store and indexed. For one
subject of each: the CPU time of this process per query (``time.process_time``) and the wall time,
medians over the repetitions after one untimed query.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.audit_store import built, open_store, shaped
from hub.audit.queries import search, who_accessed
from hub.store import migrate
from hub.store.sealing import new_key_encryption_key


async def timed(label: str, query: Callable[[], Awaitable[list[Any]]], repetitions: int = 15) -> None:
    cpu, wall, hits = [], [], 0
    await query()
    for _ in range(repetitions):
        started_cpu, started = time.process_time(), time.perf_counter()
        hits = len(await query())
        cpu.append((time.process_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    print(f"{label}: {hits} hits, CPU median {statistics.median(cpu):.2f} ms, "
          f"wall median {statistics.median(wall):.2f} ms")


async def main() -> None:
    folder, kek = tempfile.mkdtemp(), new_key_encryption_key()
    sparse = open_store(f"sqlite+aiosqlite:///{folder}/sparse.sqlite", kek, None)
    await migrate(sparse.engine)
    await built(sparse, 20_000)
    reference = shaped(sparse, "store", 0).subjects[7].subject
    await timed("sparse (1 subject/record, every 100th record), who_accessed", lambda: who_accessed(sparse, reference))
    await timed("sparse, search first page of 100", lambda: search(sparse, subject=reference, limit=100))
    await sparse.engine.dispose()
    dense = open_store(f"sqlite+aiosqlite:///{folder}/dense.sqlite", kek, None)
    await migrate(dense.engine)
    for _ in range(20):
        await asyncio.gather(*(dense.append(shaped(dense, "store", 0)) for _ in range(64)))
    await dense.index_subjects()
    reference = shaped(dense, "store", 0).subjects[7].subject
    await timed("dense (the same 100 subjects in each of 1,280 records), who_accessed",
                lambda: who_accessed(dense, reference), 8)
    await timed("dense, search first page of 100", lambda: search(dense, subject=reference, limit=100))
    await dense.aclose()
    await dense.engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
