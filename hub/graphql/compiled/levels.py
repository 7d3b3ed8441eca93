"""A list's look-ups, level by level: every licence's ``holder`` asked at once, then every holder's own.

graphql-core completes each look-up of a list on its own: 100 licences with their holders and legal
representatives are 200 resolver coroutines, each with a resolve info, a response path, a task and
an awaitable completion, although the batch loader already asks the department once per level.
Here a *batched* plan (``ObjectPlan.later``) completes a list of records so:

1. every item's plain fields by the plan, synchronously, with null in the slots of its look-ups
   (a field whose resolver is ``schema.common.look_up``, marked ``looks_up``) and nested records
   that hold look-ups (a connection's ``node``, an interface's runtime type resolved as graphql-core
   resolves it) completed the same way, recursively; the look-ups are collected in field order;
2. the look-ups are asked of ``Records.looking_up`` (the loader graphql-core's resolvers use: the same
   batches, de-duplication and entity cache), item by item; a record that arrives goes through
   ``Records.finding`` (the row rule and the disclosure note, under the field's own resolve info, as
   ``Records.one`` does for the resolver), is completed by the target's plan into its slot, and its
   own look-ups are asked in turn. A key already loaded completes at once, one still in flight when
   its batch arrives, in the order graphql-core's resolvers would have resumed: the disclosure record
   names the same subjects in the same order.

A look-up that raises (a department that failed, a type refused below the first level, a record
without its key) is null with its error, located at its field by graphql-core's own
``handle_field_error``, in the order graphql-core's resolvers would have met it (a failed batch wakes
its keys' waiters in the order they were asked, several waiters of one key one after the other).
Anything else unusual falls back to graphql-core for the whole list, which then reports it exactly
as it always has: before any key is asked (a value the plan cannot complete, a type the caller may
not see) nothing was fetched or noted; after (a found record that does not complete cleanly) every
look-up graphql-core makes is already in the loaders, so it fetches nothing again, and the records
already noted are noted again (the note is a set: once).
A look-up field that is non-null, takes arguments, is denied or masked for the caller, or whose
target's selection is neither plain nor batched is not planned here: its list keeps graphql-core's path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    is_abstract_type,
    is_object_type,
)
from graphql.execution.executor import to_nodes
from graphql.pyutils import Path

from hub.graphql.compiled.plans import Unplanned

if TYPE_CHECKING:
    from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet

    from hub.data import Records
    from hub.data.records import LoadThen
    from hub.graphql.compiled.executor import CompiledExecutor
    from hub.graphql.compiled.plans import ObjectPlan, Planned

Completer = Callable[[Any, "Batch", Path], Any]  # value read, the batch, its path -> completed; raises Unplanned
Ask = tuple["LookUp", dict[str, Any], dict[str, Any], Path]  # the look-up, its source, the slot's object, its path


class LookUp:
    """A field that is one look-up of ``type_name`` by the source record's ``key``."""

    __slots__ = ("complete", "details", "field", "key", "name", "parent", "type_name")

    def __init__(self, name: str, type_name: str, key: str, parent: GraphQLObjectType, field: Any,
                 details: FieldDetailsList, complete: Completer) -> None:
        self.name, self.type_name, self.key = name, type_name, key
        self.parent, self.field, self.details, self.complete = parent, field, details, complete


class Nested:
    """A plain read of ``key`` whose value holds look-ups (a record, an interface's record, a list of them)."""

    __slots__ = ("complete", "key", "parent")

    def __init__(self, key: str, parent: str, complete: Completer) -> None:
        self.key, self.parent, self.complete = key, parent, complete


def plan_later(
    executor: CompiledExecutor, parent: GraphQLObjectType, fields: GroupedFieldSet,
    planned: tuple[Planned | None, ...],
) -> tuple[LookUp | Nested | None, ...]:
    """For each field that is not plain: its look-up or nested plan, or None (graphql-core's path)."""
    return tuple(
        None if p is not None else _later(executor, parent, name, details)
        for (name, details), p in zip(fields.items(), planned, strict=True)
    )


def _later(executor: CompiledExecutor, parent: GraphQLObjectType, name: str,
           details: FieldDetailsList) -> LookUp | Nested | None:
    field = parent.fields.get(details[0].node.name.value)
    if field is None or field.args or any(d.node.arguments for d in details):
        return None
    looks_up = getattr(field.resolve, "looks_up", None)
    if looks_up is not None:
        if isinstance(field.type, GraphQLNonNull) or not is_object_type(field.type):
            return None  # a null look-up in a non-null field is an error graphql-core reports
        complete = completer(executor, field.type, details, None)
        type_name, key = looks_up
        return None if complete is None else LookUp(name, type_name, key, parent, field, details, complete)
    key = getattr(field.resolve, "record_key", None)
    if key is None or getattr(field.resolve, "record_mask", False):
        return None
    complete = completer(executor, field.type, details, (parent, field))
    return None if complete is None else Nested(key, parent.name, complete)


def completer(executor: CompiledExecutor, output: GraphQLOutputType, details: FieldDetailsList,
              owner: tuple[GraphQLObjectType, Any] | GraphQLResolveInfo[Any] | None) -> Completer | None:
    """How a value of ``output`` completes in a batch (None: not here). ``owner`` is the field an
    interface's runtime type is resolved for: its (parent type, field) or its resolve info."""
    if isinstance(output, GraphQLNonNull):
        inner = completer(executor, output.of_type, details, owner)
        return None if inner is None else partial(_non_null, inner)
    if isinstance(output, GraphQLList):
        item = completer(executor, output.of_type, details, owner)
        return None if item is None else partial(_list, item)
    if is_object_type(output) and output.is_type_of is None:
        return _object(executor, output, details)
    if is_abstract_type(output) and owner is not None:
        return _Abstract(output, details, owner).complete
    return None


def _object(executor: CompiledExecutor, output: GraphQLObjectType, details: FieldDetailsList) -> Completer | None:
    plan = executor.plan_of(output, executor.collect_subfields(output, details)[0])
    if plan.wholly_plain:
        return partial(_plain_record, plan.complete)
    return partial(_record, plan) if plan.batched else None


def _non_null(inner: Completer, value: Any, batch: Batch, path: Path) -> Any:
    if value is None:
        raise Unplanned
    return inner(value, batch, path)


def _list(item: Completer, value: Any, batch: Batch, path: Path) -> Any:
    if value is None:
        return None
    if type(value) is not list and type(value) is not tuple:
        raise Unplanned
    return [item(v, batch, Path(path, i, None)) for i, v in enumerate(value)]


def _plain_record(complete: Callable[[Any], dict[str, Any]], value: Any, batch: Batch, path: Path) -> Any:
    if value is None:
        return None
    if type(value) is not dict:
        raise Unplanned
    return complete(value)


def _record(plan: ObjectPlan, value: Any, batch: Batch, path: Path) -> Any:
    if value is None:
        return None
    if type(value) is not dict:
        raise Unplanned
    completed = plan.complete(value)
    asks = batch.asks
    for name, later in plan.later:
        if type(later) is LookUp:
            asks.append((later, value, completed, path))
        else:
            completed[name] = later.complete(value.get(later.key), batch, Path(path, name, later.parent))
    return completed


class _Abstract:
    """Records of an interface or union: each one's type resolved as graphql-core does, then its plan."""

    __slots__ = ("_abstract", "_details", "_owner")

    def __init__(self, abstract: Any, details: FieldDetailsList,
                 owner: tuple[GraphQLObjectType, Any] | GraphQLResolveInfo[Any]) -> None:
        self._abstract, self._details, self._owner = abstract, details, owner

    def complete(self, value: Any, batch: Batch, path: Path) -> Any:
        if value is None:
            return None
        if type(value) is not dict:
            raise Unplanned
        owner = self._owner
        info = owner if isinstance(owner, GraphQLResolveInfo) else batch.info_of(self, *owner, self._details)
        executor = batch.executor
        name = (self._abstract.resolve_type or executor.type_resolver)(value, info, self._abstract)
        if type(name) is not str:
            raise Unplanned
        found = batch.runtime.get((self, name))
        if found is None:
            runtime = executor.ensure_valid_runtime_type(name, self._abstract, self._details, info, value)
            complete = _object(executor, runtime, self._details)  # its is_type_of checked below
            if complete is None:
                raise Unplanned
            found = batch.runtime[(self, name)] = (complete, runtime.is_type_of)
        complete, is_type_of = found
        if is_type_of is not None and is_type_of(value, info) is not True:
            raise Unplanned
        return complete(value, batch, path)


class Batch:
    """One list's look-ups in one execution; ``failed`` once anything went the unusual way.

    A look-up that raises (a department that failed, a type the caller may not see, a record without
    its key) is an error at its field, as graphql-core reports it, in the order graphql-core's
    resolvers would have met it (``errors``, reported once the list is complete and not failed).
    """

    __slots__ = ("_finders", "_infos", "_loads", "_settled", "asks", "errors", "executor", "failed", "pending",
                 "records", "runtime")

    def __init__(self, executor: CompiledExecutor, records: Records) -> None:
        self.executor = executor
        self.records = records
        self.asks: list[Ask] = []
        self.errors: list[tuple[Exception, LookUp, Path]] = []
        self.runtime: dict[tuple[_Abstract, str], tuple[Completer, Any]] = {}
        self.failed = False
        self.pending = 0
        self._settled: asyncio.Future[None] | None = None
        self._infos: dict[object, GraphQLResolveInfo[Any]] = {}
        self._loads: dict[str, LoadThen] = {}
        self._finders: dict[LookUp, Callable[[list[dict[str, Any]]], dict[str, Any] | None]] = {}

    def info_of(self, owner: object, parent: GraphQLObjectType, field: Any,
                details: FieldDetailsList) -> GraphQLResolveInfo[Any]:
        """The resolve info graphql-core would give the field (its path aside: no look-up reads it)."""
        info = self._infos.get(owner)
        if info is None:
            nodes = to_nodes(details)
            info = self._infos[owner] = self.executor.build_resolve_info(
                field, nodes, parent, Path(None, nodes[0].name.value, parent.name))
        return info

    def start(self) -> None:
        """Ask the first level's look-ups (raises, asking nothing, when the caller may not see a type)."""
        asks, self.asks = self.asks, []
        for look_up, *_ in asks:
            self._load(look_up)
        self._ask(asks)

    def report(self) -> None:
        """Every look-up that raised, as graphql-core reports an error of a nullable field."""
        handle = self.executor.handle_field_error
        for error, look_up, path in self.errors:
            handle(error, look_up.field.type, look_up.details, path)

    async def settled(self) -> None:
        if self.pending:
            self._settled = asyncio.get_running_loop().create_future()
            await self._settled

    def _finder(self, look_up: LookUp) -> Callable[[list[dict[str, Any]]], dict[str, Any] | None]:
        """``Records.finding`` for the look-up's field (its resolve info, row rule and field set), once."""
        found = self._finders.get(look_up)
        if found is None:
            info = self.info_of(look_up, look_up.parent, look_up.field, look_up.details)
            found = self._finders[look_up] = self.records.finding(info, look_up.type_name)
        return found

    def _load(self, look_up: LookUp) -> LoadThen:
        load = self._loads.get(look_up.type_name)
        if load is None:
            load = self._loads[look_up.type_name] = self.records.looking_up(look_up.type_name)
        return load

    def _ask(self, asks: list[Ask]) -> None:
        for look_up, source, completed, path in asks:
            later = partial(self._arrived_later, look_up, completed, path)
            try:
                future = self._load(look_up)(source[look_up.key], later)
            except Exception as error:  # noqa: BLE001  the resolver raises it: reported at its field
                self.errors.append((error, look_up, Path(path, look_up.name, look_up.parent.name)))
                continue
            if future is not None:
                self._arrived(look_up, completed, path, future)
            else:
                self.pending += 1

    def _arrived_later(self, look_up: LookUp, completed: dict[str, Any], path: Path,
                       future: asyncio.Future[Any]) -> None:
        try:
            self._arrived(look_up, completed, path, future)
        finally:
            self.pending -= 1
            if not self.pending and self._settled is not None and not self._settled.done():
                self._settled.set_result(None)

    def _arrived(self, look_up: LookUp, completed: dict[str, Any], path: Path, future: asyncio.Future[Any]) -> None:
        field_path = Path(path, look_up.name, look_up.parent.name)
        try:
            if future.cancelled():
                self.failed = True
                return
            error = future.exception()
            if isinstance(error, Exception):
                self.errors.append((error, look_up, field_path))
                return
            if error is not None:
                self.failed = True
                return
            record = self._finder(look_up)(future.result())
            if record is None:
                return
            self.asks = []
            completed[look_up.name] = look_up.complete(record, self, field_path)
            asks, self.asks = self.asks, []
        except Exception:  # noqa: BLE001  graphql-core completes (and reports) it again
            self.failed = True
            self.asks = []
            return
        self._ask(asks)


__all__ = ["Batch", "LookUp", "Nested", "completer", "plan_later"]
