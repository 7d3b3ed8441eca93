"""A hub process that only appends: ``python -m tests.audit.appender URL KEK COUNT LABEL MEET PEERS``.

Appends one disclosure, leaves a file named LABEL in the folder MEET, waits until PEERS such files are
there (so every peer has begun before any finishes, however busy the machine), appends the rest of its
COUNT disclosures and prints, as JSON, the seqs it was given and when it began and finished appending.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from tests.audit.conftest import disclosure, make_store

MEETING_TIMEOUT = 60.0


async def meet(folder: Path, label: str, peers: int) -> None:
    (folder / label).touch()
    deadline = time.monotonic() + MEETING_TIMEOUT
    while sum(1 for _ in folder.iterdir()) < peers:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{label}: the other appenders did not begin within {MEETING_TIMEOUT:.0f} s")
        await asyncio.sleep(0.02)


async def append(url: str, key_encryption_key: str, count: int, label: str, folder: Path, peers: int) -> dict[str, Any]:
    store = make_store(url, key_encryption_key, seal_every=7)
    try:
        began = time.time()
        seqs = [await store.append(disclosure(store, 0, client=f"{label}-proc"))]
        await meet(folder, label, peers)
        seqs += [await store.append(disclosure(store, n, client=f"{label}-proc")) for n in range(1, count)]
        return {"seqs": seqs, "began": began, "finished": time.time()}
    finally:
        await store.engine.dispose()


if __name__ == "__main__":
    url, kek, count, label, folder, peers = sys.argv[1:7]
    print(json.dumps(asyncio.run(append(url, kek, int(count), label, Path(folder), int(peers)))))
