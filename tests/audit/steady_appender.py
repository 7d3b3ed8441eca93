"""A replica's audit writer under steady load: ``python -m tests.audit.steady_appender URL KEK NAME SECONDS``.

Eight concurrent writers append for SECONDS; the PostgreSQL session is named NAME
(``application_name``) so a test can find it in ``pg_stat_activity``. Prints, as JSON, each append's
outcome: ``[time, seq, request_id]`` when written, ``[time, null, request_id]`` when it failed.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from sqlalchemy.ext.asyncio import create_async_engine

from hub.audit import AuditKeys, AuditStore, AuditWriteFailed
from hub.store import Sealer
from hub.store.sealing import decode_key
from tests.audit.conftest import disclosure

WRITERS = 8
STALL_TIMEOUT = 1.0


async def run(url: str, key_encryption_key: str, name: str, seconds: float) -> list[list[Any]]:
    engine = create_async_engine(url, connect_args={"server_settings": {"application_name": name}})
    keys = AuditKeys.from_sealer(Sealer(decode_key(key_encryption_key)))
    store = AuditStore(engine, keys, seal_every=50, stall_timeout=STALL_TIMEOUT, write_timeout=30.0)
    outcomes: list[list[Any]] = []
    deadline = time.time() + seconds

    async def writer(number: int) -> None:
        n = number
        while time.time() < deadline:
            item = disclosure(store, n, client=f"{name}-proc")
            try:
                seq: int | None = await store.append(item)
            except AuditWriteFailed:
                seq = None
            outcomes.append([time.time(), seq, item.request_id])
            n += WRITERS

    try:
        await asyncio.gather(*(writer(i) for i in range(WRITERS)))
    finally:
        await engine.dispose()
    return outcomes


if __name__ == "__main__":
    url, kek, name, seconds = sys.argv[1:5]
    print(json.dumps(asyncio.run(run(url, kek, name, float(seconds)))))
