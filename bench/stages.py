"""CPU per request by stage of the request path: ``python -m bench.profile A C --stages``.

Each stage is a function of the hub's (or of its audit writer's threads) wrapped for the timed
requests: the CPU time of the thread that ran it (``time.thread_time``), summed over the requests and
divided by their number. An async stage is timed from its call to its return on the event loop's
thread, so it counts what ran on that thread meanwhile: with requests sent one at a time that is the
request's own work (and the audit's group commit, which the request waits for). A stage called again
inside itself (a nested list's completion) is counted once. The writer's stages run on its worker
thread, beside the event loop: ``process per request`` is every thread of the process, ``event loop
thread per request`` only the loop's, so their difference is what the driver's and the writer's
threads spent (SQLite's own work on the departments' files and on the audit's).

Stages overlap (``execute`` holds ``select``, ``note`` and completion); they are not meant to add up.
"""

from __future__ import annotations

import importlib
import inspect
import time
from collections import defaultdict
from collections.abc import Callable
from functools import wraps
from typing import Any

# (module, attribute, stage): a class's method as "Class.method", a module's function as "function".
STAGES: tuple[tuple[str, str, str], ...] = (
    ("hub.graphql.endpoint", "GraphQLEndpoint.handle", "the whole /graphql handling"),
    ("hub.graphql.endpoint", "GraphQLEndpoint.authenticate", "token and proof check"),
    ("hub.graphql.documents", "DocumentCache.get", "document cache (parse, validate)"),
    ("hub.graphql.documents", "DocumentCache.judged", "operation cost"),
    ("hub.graphql.endpoint", "GraphQLEndpoint._execute", "execution (all of it)"),
    ("hub.data.records", "Records._select", "page select (loop thread)"),
    ("connectors.sql", "_records", "  rows as records"),
    ("connectors.values", "ValueMapped._decode", "  value maps"),
    ("hub.context", "RequestContext.note", "disclosure note (pages, look-ups by key)"),
    ("schema.query", "connection", "connection's edges"),
    ("hub.graphql.compiled.executor", "CompiledExecutor.execute_fields", "completion by plan (objects)"),
    ("hub.graphql.compiled.executor", "CompiledExecutor.complete_list_value", "completion of lists"),
    ("hub.graphql.compiled.levels", "Batch._arrived", "look-ups arriving (row rule, note, completion)"),
    ("hub.fairuse.gate", "FairUse.admit", "fair use: admission"),
    ("hub.fairuse.gate", "FairUse.disclose", "fair use: disclosure"),
    ("hub.audit.recorder", "DisclosureRecorder.record", "audit record (all, with its wait)"),
    ("hub.audit.subjects", "Disclosed.groups", "  subjects grouped and referenced"),
    ("hub.audit.store", "Pending.of", "  record's JSON and subject list"),
    ("hub.graphql.endpoint", "_json", "answer's JSON"),
    ("hub.audit.sqlite_writer", "SQLiteGroupWriter._write", "audit writer thread: records written"),
    ("hub.audit.sqlite_writer", "SQLiteGroupWriter._index", "audit writer thread: subject index"),
    ("hub.audit.sqlite_writer", "SQLiteGroupWriter._sync", "audit writer thread: log flushed"),
)


class Stages:
    """The stages' CPU time, summed while ``counting``; ``install`` wraps them, ``restore`` unwraps."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)
        self.counting = False
        self._inside: dict[str, int] = defaultdict(int)
        self._wrapped: list[tuple[Any, str, Any]] = []
        self.missing: list[str] = []  # stages whose function this hub does not have (renamed, gone)

    def install(self, stages: tuple[tuple[str, str, str], ...] = STAGES) -> None:
        for module, attribute, stage in stages:
            owner: Any = importlib.import_module(module)
            *path, name = attribute.split(".")
            for part in path:
                owner = getattr(owner, part, None)
            found = vars(owner).get(name) if isinstance(owner, type) else getattr(owner, name, None)
            if found is None:
                self.missing.append(stage)
                continue
            original: Any = found
            self._wrapped.append((owner, name, original))
            if isinstance(original, classmethod):
                setattr(owner, name, classmethod(self.timed(original.__func__, stage)))
            else:
                setattr(owner, name, self.timed(original, stage))

    def restore(self) -> None:
        for owner, name, original in reversed(self._wrapped):
            setattr(owner, name, original)
        self._wrapped.clear()

    def timed(self, function: Callable[..., Any], stage: str) -> Callable[..., Any]:
        """``function`` adding its thread's CPU time to ``stage`` (once, however deep it recurses)."""
        inside, spent = self._inside, self.spent

        if inspect.iscoroutinefunction(function):
            @wraps(function)
            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                if inside[stage] or not self.counting:
                    return await function(*args, **kwargs)
                inside[stage] += 1
                started = time.thread_time()
                try:
                    return await function(*args, **kwargs)
                finally:
                    spent[stage] += time.thread_time() - started
                    inside[stage] -= 1

            return timed_async

        @wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if inside[stage] or not self.counting:
                return function(*args, **kwargs)
            inside[stage] += 1
            started = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[stage] += time.thread_time() - started
                inside[stage] -= 1

        return timed

    def lines(self, requests: int, stages: tuple[tuple[str, str, str], ...] = STAGES) -> list[str]:
        """Each stage's CPU ms per request, in the order given (a stage never entered: 0)."""
        width = max(len(stage) for *_, stage in stages)
        names = [stage for *_, stage in stages] + [s for s in self.spent if s not in {x for *_, x in stages}]
        return [f"  {stage:<{width}}  (not in this hub)" if stage in self.missing else
                f"  {stage:<{width}}  {self.spent.get(stage, 0.0) * 1000 / requests:7.3f} ms" for stage in names]
