"""A hub process that only appends: ``python -m tests.audit.appender URL KEK COUNT LABEL START``.

Waits until the Unix time START (so two of them begin together), appends COUNT disclosures and
prints, as JSON, the seqs it was given and when it began and finished appending.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from tests.audit.conftest import disclosure, make_store


async def append(url: str, key_encryption_key: str, count: int, label: str, start: float) -> dict[str, Any]:
    store = make_store(url, key_encryption_key, seal_every=7)
    try:
        await asyncio.sleep(max(0.0, start - time.time()))
        began = time.time()
        seqs = [await store.append(disclosure(store, n, client=f"{label}-proc")) for n in range(count)]
        return {"seqs": seqs, "began": began, "finished": time.time()}
    finally:
        await store.engine.dispose()


if __name__ == "__main__":
    url, kek, count, label, start = sys.argv[1:6]
    print(json.dumps(asyncio.run(append(url, kek, int(count), label, float(start)))))
