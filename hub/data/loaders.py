"""Per-request entity loaders: one per (connector, entity, field), batching and de-duplicating keys.

A resolver asks ``loaders.one("market", "enterprise", "uscc", key)``; every key asked for while the
current batch is open goes into one ``Sources.fetch``. The batch is dispatched a few event-loop
turns after its first key, so that sibling resolvers resumed by the same source answer (which
graphql-core reaches through a couple of nested awaits) join it rather than start another.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from connectors.base import Record
from hub.data.sources import Sources

# Loop turns to wait before dispatching: enough for graphql-core's gather chains (measured by
# the fetched-once tests), few enough to add no visible latency.
DISPATCH_TURNS = 3


class EntityLoader:
    __slots__ = (
        "_connector", "_entity", "_field", "_futures", "_loop", "_pending", "_prefetched", "_primed", "_sources",
        "_tasks", "_then",
    )

    def __init__(self, sources: Sources, connector: str, entity: str, field: str) -> None:
        self._sources = sources
        self._connector = connector
        self._entity = entity
        self._field = field
        self._futures: dict[str, asyncio.Future[list[Record]]] = {}
        # Records a page already fetched, by key: made a future only when someone looks one up (a page
        # of 1,000 records is primed on every list request, and looked up in few).
        self._primed: dict[str, list[Record]] = {}
        self._pending: list[str] = []
        self._prefetched: list[str] = []  # keys ``prefetch`` asked, batched apart from ``_pending``
        self._loop = asyncio.get_running_loop()
        # Dispatches in flight, held so that they are not collected and can be cancelled with the request.
        self._tasks: set[asyncio.Task[None]] = set()
        # ``load_then``'s callers of keys not answered yet, by key, in the order they asked.
        self._then: dict[str, list[Callable[[asyncio.Future[list[Record]]], None]]] = {}

    def load(self, key: Any) -> asyncio.Future[list[Record]]:
        """Every record whose field equals ``key`` (a list: relations are one-to-many)."""
        future, first = self._queued(str(key), self._pending)
        if first:
            self._loop.call_soon(self._wait, DISPATCH_TURNS)
        return future

    def load_then(
        self, key: Any, then: Callable[[asyncio.Future[list[Record]]], None],
    ) -> asyncio.Future[list[Record]] | None:
        """``load`` for a caller that takes the answer by a call rather than by awaiting it (a list's
        look-ups on the compiled path, docs/architecture.md): the key's future if it is answered
        already (the caller reads it at once), else None, and ``then(future)`` is called once the
        key's batch is answered (or has failed), in the dispatch itself: the batch's keys in the order
        they were asked, a key's callers in the order they asked, as the loop would run done-callbacks,
        but without a callback scheduled on the loop for each look-up."""
        text = str(key)
        future, first = self._queued(text, self._pending)
        if first:
            self._loop.call_soon(self._wait, DISPATCH_TURNS)
        if future.done():
            return future
        waiting = self._then.get(text)
        if waiting is None:
            self._then[text] = [then]
        else:
            waiting.append(then)
        return None

    def prefetch(self, key: Any) -> asyncio.Future[list[Record]]:
        """``load``, asked before anyone knows it will be shown (``Records.prefetch``). A key not asked
        yet goes in a batch of prefetched keys only, never with keys a resolver asked; if that batch
        fails, each of its keys is asked alone. So a prefetched key whose parent is then withheld
        never shares a failing call with a key that is shown: its failure is no other key's error.
        A resolver asking it later shares this future."""
        future, first = self._queued(str(key), self._prefetched)
        if first:
            self._loop.call_soon(self._dispatch_prefetched)
        return future

    def _queued(self, key: str, queue: list[str]) -> tuple[asyncio.Future[list[Record]], bool]:
        """The key's future (the one already asked, primed or new) and whether the key was the first
        put in ``queue`` (whose dispatch the caller then schedules)."""
        future = self._futures.get(key)
        if future is not None:
            return future, False
        future = self._futures[key] = self._loop.create_future()
        primed = self._primed.pop(key, None)
        if primed is not None:
            future.set_result(primed)
            return future, False
        queue.append(key)
        return future, len(queue) == 1

    def load_many(self, keys: Sequence[Any]) -> asyncio.Future[list[list[Record]]]:
        return asyncio.gather(*(self.load(k) for k in keys))

    def prime(self, records: list[Record]) -> None:
        """Each record as the answer for its own value of the loader's field (a key: unique), unless
        that value was asked for already (the first answer stands)."""
        field, futures, primed = self._field, self._futures, self._primed
        for record in records:
            key = str(record[field])
            if key not in futures and key not in primed:
                primed[key] = [record]

    def _wait(self, turns: int) -> None:
        if turns > 1:
            self._loop.call_soon(self._wait, turns - 1)
        else:
            keys, self._pending = self._pending, []
            task = self._loop.create_task(self._dispatch(keys))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _dispatch_prefetched(self) -> None:
        keys, self._prefetched = self._prefetched, []
        task = self._loop.create_task(self._dispatch_apart(keys))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _dispatch_apart(self, keys: list[str]) -> None:
        """Prefetched keys in one call; if it fails, each key alone (its own failure, or its records)."""
        if len(keys) > 1:
            try:
                found = await self._sources.fetch(self._connector, self._entity, self._field, keys)
            except Exception:  # noqa: BLE001  which key failed it is unknown: each is asked alone
                await asyncio.gather(*(self._dispatch([key]) for key in keys))
                return
            for key in keys:
                future = self._futures[key]
                if not future.done():
                    future.set_result(found.get(key, []))
            self._answered(keys)
            return
        await self._dispatch(keys)

    def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    async def _dispatch(self, keys: list[str]) -> None:
        try:
            found = await self._sources.fetch(self._connector, self._entity, self._field, keys)
        except Exception as exc:  # noqa: BLE001  delivered to every waiting resolver, which reports it
            for key in keys:
                future = self._futures[key]
                if not future.done():
                    future.set_exception(exc)
            self._answered(keys)
            return
        for key in keys:
            future = self._futures[key]
            if not future.done():
                future.set_result(found.get(key, []))
        self._answered(keys)

    def _answered(self, keys: list[str]) -> None:
        """``load_then``'s callers of ``keys`` (their futures are done), key by key in order."""
        if not self._then:
            return
        for key in keys:
            waiting = self._then.pop(key, None)
            if waiting is None:
                continue
            future = self._futures[key]
            for then in waiting:
                try:
                    then(future)
                except Exception as exc:  # noqa: BLE001  as the loop reports a done-callback that raised
                    self._loop.call_exception_handler(
                        {"message": "a look-up's callback raised", "exception": exc, "future": future})


class Loaders:
    """The loaders of one request; created lazily, dropped with the request."""

    __slots__ = ("_loaders", "_sources")

    def __init__(self, sources: Sources) -> None:
        self._sources = sources
        self._loaders: dict[tuple[str, str, str], EntityLoader] = {}

    def get(self, connector: str, entity: str, field: str) -> EntityLoader:
        slot = (connector, entity, field)
        loader = self._loaders.get(slot)
        if loader is None:
            loader = self._loaders[slot] = EntityLoader(self._sources, connector, entity, field)
        return loader

    async def one(self, connector: str, entity: str, field: str, key: Any) -> Record | None:
        records = await self.get(connector, entity, field).load(key)
        return records[0] if records else None

    async def many(self, connector: str, entity: str, field: str, key: Any) -> list[Record]:
        return await self.get(connector, entity, field).load(key)

    def cancel(self) -> None:
        """Stop every fetch still in flight: the request is over (answered or out of time)."""
        for loader in self._loaders.values():
            loader.cancel()

    def prime(self, connector: str, entity: str, field: str, records: list[Record]) -> None:
        self.get(connector, entity, field).prime(records)
