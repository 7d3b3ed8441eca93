"""Group commit: requests hand their items to one writer, which writes all that are waiting at once.

While a group is being written, the items of later requests queue; when it is done the writer takes
every waiting item (up to ``max_items``) as the next group. One request alone is written at once, as
before; under load a group holds as many records as arrived during the last write, so one lock, one
transaction and one durable flush serve them all. Each caller waits for its own group: its item's
result, or the group's failure, raised in every caller of that group (none of them may answer).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupFailed(RuntimeError):
    """The group an item was written with failed; ``__cause__`` says why."""


class GroupCommit(Generic[Item, Result]):
    """Batches concurrent ``submit`` calls into calls of ``write(items) -> results`` (one per item)."""

    def __init__(self, write: Callable[[Sequence[Item]], Awaitable[Sequence[Result]]], *, max_items: int) -> None:
        if max_items < 1:
            raise ValueError("max_items must be at least 1")
        self._write = write
        self._max = max_items
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.groups = 0  # groups written (or attempted): the batching is observable, not assumed
        self.largest = 0

    async def submit(self, item: Item) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        # A caller that gives up (its request timed out) leaves its item in the group: a record of an
        # executed operation is kept even when its answer never leaves.
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting[: self._max], self._waiting[self._max :]
            self.groups += 1
            self.largest = max(self.largest, len(group))
            try:
                results = await self._write([item for item, _ in group])
            except Exception as exc:  # noqa: BLE001  every caller of the group learns it failed
                for _, future in group:
                    if not future.done():
                        failed = GroupFailed(str(exc))
                        failed.__cause__ = exc
                        future.set_exception(failed)
                continue
            except BaseException:
                for _, future in group:
                    if not future.done():
                        future.set_exception(GroupFailed("the audit writer was stopped"))
                raise
            for (_, future), result in zip(group, results, strict=True):
                if not future.done():
                    future.set_result(result)
