"""One request's reads of department records: the only way a resolver gets a record.

``Records`` is made per request with the app's ``Sources`` and the request's ``Access`` (the
caller's view and its disclosure note, ``hub.context.RequestContext``). Every read names a graph
type and a key; the register table (``hub.data.registers``) turns the type into a department and
an entity, the batch loaders and the entity cache fetch, and before a record is returned:

1. the caller's view must have the type at all (else ``Forbidden``, before any source call);
2. the caller's row rule (jurisdiction) admits the record, or it is withheld as if absent (one
   step, ``hub.data.row_filter.admitted``, which every record returned passes once);
3. the record is noted as shown, under the resolving field's selection, for the disclosure audit.

A resolver holds no loader, no ``Sources`` and no connector, so it cannot skip any of the three.
Lists are pages (``list``): the row rule goes into the source query where the source can take it
(``Sources.select``), which passes every page it reads through the admission step, so a source
that ignores the rule is still caught; only the records a page shows are noted, not the one more
fetched to tell whether another page follows. A page whose selection only reads record keys
(``Access.reads``) asks the source for those keys and the ones the data path reads itself (key,
order, row rule, subject), so a list of five fields reads five columns, not all of them. Look-ups
by key (``one``, ``many``, ``contribution``) cannot push the rule: what the loaders return passes
the same step in ``_shown``. ``prefetch`` starts look-ups ahead (records related by a key known
before their parent arrives) and returns nothing: what they bring is shown only through the three
steps above, when a resolver asks for it.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol

from connectors.base import Condition, Page, Record, SourceError
from hub.data.loaders import Loaders
from hub.data.registers import register_of
from hub.data.row_filter import Selected, admits, admitted
from hub.data.sources import Sources

Subject = tuple[str, str]  # (enterprise | person, its key), as the disclosure audit names it
# A key and who takes its answer -> the key's future if answered already, else None (``EntityLoader.load_then``)
Answer = asyncio.Future[builtins.list[Record]]
LoadThen = Callable[[Any, Callable[[Answer], None]], Answer | None]
Derive = Callable[[Record | None], Record | None]


class Access(Protocol):
    """What the data path asks of the request's caller (implemented by ``RequestContext``)."""

    def refuse_unseen(self, type_name: str) -> None:
        """Raise ``Forbidden`` when the caller's view has none of the type's fields."""

    def can_see(self, type_name: str) -> bool:
        """Whether the caller's view has the type at all."""

    def row_filter(self, type_name: str) -> Condition | None:
        """The caller's row rule for the type (None: every row)."""

    def reads(self, info: Any, type_name: str) -> frozenset[str] | None:
        """The record keys answering the field ``info`` resolves will read (None: any of them)."""

    def note(self, info: Any, type_name: str, records: Iterable[Record], subject: Subject | None = None) -> None:
        """Note records as shown by the field ``info`` resolves (the disclosure audit's input)."""

    def noting(self, info: Any, type_name: str) -> Callable[[Record], None]:
        """``note`` of one record at a time under the same field (each call notes one record)."""


class Records:
    """Load one, load many, list: by graph type and key, under the caller's rules."""

    __slots__ = ("_access", "_loaders", "_sources")

    def __init__(self, sources: Sources, access: Access) -> None:
        self._sources = sources
        self._access = access
        self._loaders = Loaders(sources)

    async def one(
        self, info: Any, type_name: str, key: Any, *, by: str | None = None,
        derive: Derive | None = None, subject: Subject | None = None,
    ) -> Record | None:
        """The record of ``type_name`` whose ``by`` (default: the register's key) equals ``key``.

        ``derive`` computes what the type shows from the register's record (found or not);
        ``subject`` names whom it is about where the record itself does not say.
        """
        self._access.refuse_unseen(type_name)
        register = register_of(type_name)
        field = by or register.key
        if field is None:
            raise LookupError(f"{type_name} has no key: name the field to load it by")
        # The loader's future awaited here directly: one coroutine less per look-up (a list of a thousand
        # records with a relation each makes a thousand of them).
        found = await self._loaders.get(register.connector, register.entity, field).load(key)
        record = found[0] if found else None
        if derive is not None:
            record = derive(record)
        return self._shown_one(info, type_name, record, subject)

    def looking_up(self, type_name: str) -> LoadThen:
        """``one``'s look-up by the register's key, for a list's records asked at once (the compiled path).

        Refuses an unseen type (``Forbidden``) before any key is asked; returns the loader's
        ``load_then`` (the same batches, de-duplication and entity cache as ``one``; the answer comes
        by a call, not a callback scheduled on the loop). What a key's future brings must go through
        ``finding``'s function before it is shown.
        """
        self._access.refuse_unseen(type_name)
        register = register_of(type_name)
        if register.key is None:
            raise LookupError(f"{type_name} has no key: name the field to load it by")
        return self._loaders.get(register.connector, register.entity, register.key).load_then

    def finding(self, info: Any, type_name: str) -> Callable[[builtins.list[Record]], Record | None]:
        """``one``'s ending for what ``looking_up``'s futures bring under ``info``'s field: the record,
        if the caller's row rule admits it, noted as shown (else None). The rule and the note's field
        set are looked up once for the field's many look-ups, not once per record."""
        row_filter = self._access.row_filter(type_name)
        note = self._access.noting(info, type_name)

        def found(records: builtins.list[Record]) -> Record | None:
            record = records[0] if records else None
            if record is None or (row_filter is not None and not admits(record, row_filter)):
                return None  # withheld as if absent, and so not noted
            note(record)
            return record

        return found

    async def many(self, info: Any, type_name: str, by: str, key: Any) -> list[Record]:
        """Every record of ``type_name`` whose ``by`` equals ``key`` (a relation: one to many)."""
        self._access.refuse_unseen(type_name)
        register = register_of(type_name)
        records = await self._loaders.get(register.connector, register.entity, by).load(key)
        return self._shown(info, type_name, records)

    async def list(
        self, info: Any, type_name: str, where: Sequence[Condition], page: Page, *, shown: int | None = None,
    ) -> Selected:
        """A page of ``type_name`` matching ``where``; the first ``shown`` (default: all) are noted."""
        self._access.refuse_unseen(type_name)
        reads = self._access.reads(info, type_name)
        if reads is not None:
            page = replace(page, fields=reads)
        selected = await self._select(type_name, where, page)
        self._access.note(info, type_name, selected if shown is None else selected[:shown])
        return selected

    async def many_across(
        self, info: Any, type_names: Sequence[str], by: str, key: Any,
    ) -> tuple[builtins.list[Record], builtins.list[SourceError]]:  # builtins: Records.list is a method
        """``many`` in each register the caller sees, asked together; a department that fails is
        returned apart (the others still answer)."""
        seen = [t for t in type_names if self._access.can_see(t)]
        results = await asyncio.gather(*(self.many(info, t, by, key) for t in seen), return_exceptions=True)
        records: list[Record] = []
        failures: list[SourceError] = []
        for result in results:
            if isinstance(result, SourceError):
                failures.append(result)
            elif isinstance(result, BaseException):
                raise result
            else:
                records.extend(result)
        return records, failures

    async def list_across(
        self, info: Any, type_names: Sequence[str], where: Sequence[Condition], page: Page,
    ) -> tuple[Selected, builtins.list[SourceError]]:
        """One page per register the caller sees, merged in ``page.order_by`` order.

        Returns the merged page (``page.limit`` records at most) and the departments that failed.
        Noted as shown: the records of the page but its last, which
        is the one more fetched to tell whether another page follows.
        """
        seen = [t for t in type_names if self._access.can_see(t)]
        pages = []
        for type_name in seen:
            self._access.refuse_unseen(type_name)
            reads = self._access.reads(info, type_name)  # as ``list``: the columns the selection reads
            pages.append(page if reads is None else replace(page, fields=reads))
        results = await asyncio.gather(*(self._select(t, where, p) for t, p in zip(seen, pages, strict=True)),
                                       return_exceptions=True)
        merged: list[tuple[Record, str]] = []
        failures: list[SourceError] = []
        answered: list[str] = []
        truncated = False
        for type_name, result in zip(seen, results, strict=True):
            if isinstance(result, SourceError):
                failures.append(result)
                continue
            if isinstance(result, BaseException):
                raise result
            merged.extend((record, type_name) for record in result)
            answered.append(type_name)
            truncated = truncated or result.truncated
        merged.sort(key=lambda pair: pair[0][page.order_by])
        kept = merged[: page.limit]
        for type_name in answered:
            self._access.note(info, type_name, [r for r, kind in kept[: page.limit - 1] if kind == type_name])
        return Selected([r for r, _ in kept], truncated), failures

    async def contribution(
        self, info: Any, type_name: str, representation: Mapping[str, Any],
        check: Callable[[Any], object] | None = None,
    ) -> Record | None:
        """Another department's entity as this one adds fields to it: the representation itself.

        Where the caller's row rule covers the type, the record gets the division code from the
        owner's record (never from the representation, which is the caller's word), checking the
        key with ``check`` first; an owner without the entity, or without a code, withholds it.
        """
        self._access.refuse_unseen(type_name)
        record = dict(representation)
        row_filter = self._access.row_filter(type_name)
        if row_filter is not None:
            register = register_of(type_name)
            assert register.key is not None  # an entity another department extends has a key
            key = representation[register.key]
            if check is not None:
                check(key)
            owner = await self._loaders.one(register.connector, register.entity, register.key, key)
            code = None if owner is None else owner.get(row_filter.field)
            if not isinstance(code, str):
                return None
            record[row_filter.field] = code
        return self._shown_one(info, type_name, record, None)

    def prefetch(self, type_name: str, key: Any, loads: Iterable[tuple[str, str | None]]) -> int:
        """Start, beside the look-up of the ``type_name`` whose key is ``key``, the loads of records
        related to it by that key: each ``(type, field)`` of ``loads`` (None: the type's key) whose type
        the caller may see, as ``one``, ``many`` and ``many_across`` would ask them once it arrived.

        Nothing is returned, admitted or noted here: the loaders keep what arrives, and only a
        resolver of the related field, run under the admitted parent, reads it (through ``one``,
        ``many`` or ``many_across``: the row rule and the disclosure note as ever). A parent not found,
        withheld or failed drops them unseen; their source calls are what that costs. Prefetched keys
        are batched apart from the keys resolvers ask, and asked one by one if their batch fails
        (``EntityLoader.prefetch``): a withheld parent's records failing a call are never another
        key's error. A type the
        caller may not see (or the parent's) is not asked. Returns the number of loads started.
        """
        if not self._visible(type_name):
            return 0
        started = 0
        for related, by in loads:
            if not self._visible(related):
                continue
            register = register_of(related)
            field = by or register.key
            if field is None:
                continue
            future = self._loaders.get(register.connector, register.entity, field).prefetch(key)
            future.add_done_callback(_seen)  # a failure nobody reads is no "never retrieved" warning
            started += 1
        return started

    def _visible(self, type_name: str) -> bool:
        if not self._access.can_see(type_name):
            return False
        try:
            self._access.refuse_unseen(type_name)
        except Exception:  # noqa: BLE001  refused: the resolver raises it, if it runs at all
            return False
        return True

    def cancel(self) -> None:
        """Stop every fetch still in flight: the request is over (answered or out of time)."""
        self._loaders.cancel()

    async def _select(self, type_name: str, where: Sequence[Condition], page: Page) -> Selected:
        register = register_of(type_name)
        row_filter = self._access.row_filter(type_name)
        if page.fields is not None:  # and what the data path reads itself: the key, the order, the row rule
            needed = {page.order_by, *(() if register.key is None else (register.key,)),
                      *(() if row_filter is None else (row_filter.field,))}
            page = replace(page, fields=page.fields | needed)
        selected = await self._sources.select(register.connector, register.entity, where, page, row_filter)
        if register.key is not None and page.fields is None:
            # A later look-up of a listed record costs no source call; a record read in part is no answer to one.
            self._loaders.prime(register.connector, register.entity, register.key, selected)
        return selected  # every record of it passed the admission step in Sources.select

    def _shown_one(self, info: Any, type_name: str, record: Record | None, subject: Subject | None) -> Record | None:
        if record is None:
            return None
        shown = admitted([record], self._access.row_filter(type_name))
        if not shown:
            return None  # withheld as if absent, and so not noted
        self._access.note(info, type_name, shown, subject)
        return record

    def _shown(self, info: Any, type_name: str, records: builtins.list[Record]) -> builtins.list[Record]:
        """What a look-up by key returns: the records the caller's row rule admits, noted as shown."""
        shown = admitted(records, self._access.row_filter(type_name))
        self._access.note(info, type_name, shown)
        return shown


def _seen(future: asyncio.Future[builtins.list[Record]]) -> None:
    """Retrieve a prefetched load's outcome: a resolver reading it later still gets it as it is."""
    if not future.cancelled():
        future.exception()
