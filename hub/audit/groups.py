"""Group commit: requests hand their items to one writer, which writes all that are waiting at once.

While a group is being written, the items of later requests queue; when it is done the writer starts
the next group. The group's members are taken when the writer holds the lock it writes under
(``take``, called by the write itself, from whichever thread runs it), not when it starts for it: the
items that arrive while it hands over to its thread and while it waits for the lock (another
process's transaction on the same SQLite file, another replica's on PostgreSQL) join the group rather
than wait for the next one and its own durable flush. One request alone is written at once, as
before; under load a group holds as many records as arrived meanwhile (up to ``max_items``), so one
lock, one transaction and one durable flush serve them all. Each caller waits for its own group: its
item's result, or the group's failure, raised in every caller of that group (none of them may
answer). A write that fails before it took its group fails the items that were waiting when it began.

A write may return its results as ``Committed``: written, with an awaitable that completes once they
are durable (the SQLite file's writer flushes outside its lock, one flush for many groups). The next
group is then written at once, while this one waits for its flush; its callers get their results
when that completes, or all fail when it raises.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

Take = Callable[[], Sequence[Item]]  # the group: every item waiting now, up to the bound (the same once taken)


@dataclass(frozen=True, slots=True)
class Committed(Generic[Result]):
    """A group's results, written but released only once ``durable`` completes (raising: all fail)."""

    results: Sequence[Result]
    durable: Awaitable[None]


class GroupFailed(RuntimeError):
    """The group an item was written with failed; ``__cause__`` says why."""


class _Group(Generic[Item, Result]):
    """One write's members: taken once, by ``take`` or, when the write failed before it, by the writer."""

    def __init__(self, waiting: deque[tuple[Item, asyncio.Future[Result]]], bound: int, least: int) -> None:
        self._waiting = waiting
        self._bound = bound
        self._least = least  # items waiting when the write began: its group if it fails before taking one
        self._lock = threading.Lock()  # ``take`` runs on the writer's thread, ``close`` on the event loop
        self.members: list[tuple[Item, asyncio.Future[Result]]] | None = None

    def take(self) -> list[Item]:
        with self._lock:
            if self.members is None:
                self.members = self._pop(self._bound)
            return [item for item, _ in self.members]

    def close(self) -> list[tuple[Item, asyncio.Future[Result]]]:
        """The members, the items waiting when the write began if it took none (and none later)."""
        with self._lock:
            if self.members is None:
                self.members = self._pop(self._least)
            return self.members

    def _pop(self, count: int) -> list[tuple[Item, asyncio.Future[Result]]]:
        # Only the writer takes from the left, one group at a time; ``submit`` appends on the right.
        return [self._waiting.popleft() for _ in range(min(count, len(self._waiting)))]


class GroupCommit(Generic[Item, Result]):
    """Batches concurrent ``submit`` calls into calls of ``write(take) -> results``: ``take()`` returns
    the group (called once the write holds its lock), the results are one per item of it, in order."""

    def __init__(
        self, write: Callable[[Take[Item]], Awaitable[Sequence[Result] | Committed[Result]]], *, max_items: int
    ) -> None:
        if max_items < 1:
            raise ValueError("max_items must be at least 1")
        self._write = write
        self._max = max_items
        self._waiting: deque[tuple[Item, asyncio.Future[Result]]] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._settling: set[asyncio.Task[None]] = set()  # groups written, waiting to be durable
        self.groups = 0  # groups written (or attempted): the batching is observable, not assumed
        self.largest = 0

    @property
    def waiting(self) -> int:
        """Items handed in and not yet taken into a group."""
        return len(self._waiting)

    async def submit(self, item: Item) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        # A caller that gives up (its request timed out) cancels only its own future and leaves its item
        # in the group: a record of an executed operation is kept even when its answer never leaves (the
        # writer releases only futures not done). No shield: one future a record, not two.
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            group: _Group[Item, Result] = _Group(self._waiting, self._max, min(len(self._waiting), self._max))
            self.groups += 1
            try:
                results = await self._write(group.take)
            except Exception as exc:  # noqa: BLE001  every caller of the group learns it failed
                for _, future in self._closed(group):
                    if not future.done():
                        failed = GroupFailed(str(exc))
                        failed.__cause__ = exc
                        future.set_exception(failed)
                continue
            except BaseException:
                for _, future in self._closed(group):
                    if not future.done():
                        future.set_exception(GroupFailed("the audit writer was stopped"))
                raise
            if isinstance(results, Committed):
                durable = results.durable
                if isinstance(durable, asyncio.Future) and durable.done():  # flushed with its commit
                    self._settle(self._closed(group), results.results, durable)
                    continue
                # A future (the SQLite writer's) is waited on as it is: a callback, no task per group.
                settling = asyncio.ensure_future(durable)
                self._settling.add(settling)
                settling.add_done_callback(self._settling.discard)
                settling.add_done_callback(functools.partial(self._settle, self._closed(group), results.results))
                continue
            self._release(self._closed(group), results)

    async def settled(self) -> None:
        """Wait until every group written so far has been released or failed (before closing the writer)."""
        while self._settling:
            await asyncio.gather(*self._settling, return_exceptions=True)

    def _settle(
        self,
        members: list[tuple[Item, asyncio.Future[Result]]],
        results: Sequence[Result],
        durable: asyncio.Future[None],
    ) -> None:
        """Release a written group's callers once it is durable; fail them all if it cannot be made so."""
        exc: BaseException | None = asyncio.CancelledError() if durable.cancelled() else durable.exception()
        if exc is None:
            self._release(members, results)
            return
        for _, future in members:  # every caller of the group learns it failed, whatever stopped it
            if not future.done():
                failed = GroupFailed(str(exc) or "the audit writer was stopped")
                failed.__cause__ = exc
                future.set_exception(failed)

    @staticmethod
    def _release(members: list[tuple[Item, asyncio.Future[Result]]], results: Sequence[Result]) -> None:
        for (_, future), result in zip(members, results, strict=True):
            if not future.done():
                future.set_result(result)

    def _closed(self, group: _Group[Item, Result]) -> list[tuple[Item, asyncio.Future[Result]]]:
        members = group.close()
        self.largest = max(self.largest, len(members))
        return members
