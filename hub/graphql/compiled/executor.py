"""``CompiledExecutor``: graphql-core's executor, with plain fields and plain lists completed by plan.

An object's selection with look-ups by an argument whose related records are known by that key
(``prefetch``) has those loads started before its fields are executed.

Two places change, both falling back to the inherited code on ``Unplanned`` or any other exception
(plain reads are pure, so completing them again the usual way repeats nothing but the read):

- ``execute_fields``: an object's plain fields are completed by their entries, in selection order,
  without a resolve info or a response path; the others go through ``execute_field`` as before.
- ``complete_list_value``: a list (whoever resolved it) of objects whose selection is wholly plain
  is completed item by item by the plan, with the abstract type resolved per item as graphql-core does;
  one whose selection is batched (plain fields and look-ups, ``levels``) is completed level by level,
  and completed again by the inherited code if any look-up went the unusual way.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, cast

from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    Undefined,
    is_abstract_type,
    is_object_type,
)
from graphql.execution.incremental.incremental_executor import IncrementalExecutor
from graphql.pyutils import Path, gather_with_cancel

from hub.data import Records
from hub.graphql.compiled.levels import Batch, completer
from hub.graphql.compiled.plans import ObjectPlan, Plans, Unplanned, build_plan, plan_key

if TYPE_CHECKING:
    from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet


class CompiledExecutor(IncrementalExecutor):
    """The executor ``graphql.execute`` uses by default, with the compiled path for plain fields."""

    def __init__(self, *args: Any, plans: Plans | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plans = plans if plans is not None else Plans(None)
        # This execution's plans by selection (the grouped field set is kept alive beside its plan).
        self._by_selection: dict[int, tuple[GroupedFieldSet, ObjectPlan]] = {}

    def plan_of(self, parent_type: GraphQLObjectType, fields: GroupedFieldSet) -> ObjectPlan:
        found = self._by_selection.get(id(fields))
        if found is not None and found[0] is fields:
            return found[1]
        key = plan_key(parent_type, fields)
        plan = self.plans.get(key)
        if plan is None:
            plan = build_plan(self, parent_type, fields)
            self.plans.put(key, plan)
        self._by_selection[id(fields)] = (fields, plan)
        return plan

    def execute_fields(
        self, parent_type: GraphQLObjectType, source_value: Any, path: Path | None,
        grouped_field_set: GroupedFieldSet, position_context: Any,
    ) -> Any:
        plan = self.plan_of(parent_type, grouped_field_set)
        if plan.wholly_plain:
            try:
                return plan.complete(source_value)
            except Exception:  # noqa: BLE001  pure reads: the usual path completes and reports it
                return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        if plan.prefetch:
            self._prefetch(plan)
        if not plan.partly_plain:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        return self._execute_partly_plain(plan, parent_type, source_value, path, grouped_field_set, position_context)

    def _prefetch(self, plan: ObjectPlan) -> None:
        """Start the related loads of the selection's look-ups by argument (``prefetch``) with them."""
        records = getattr(self.context_value, "records", None)
        if isinstance(records, Records):
            for prefetch in plan.prefetch:
                prefetch.start(records, self.variable_values)

    def _execute_partly_plain(
        self, plan: ObjectPlan, parent_type: GraphQLObjectType, source: Any, path: Path | None,
        grouped_field_set: GroupedFieldSet, position_context: Any,
    ) -> Any:
        """``Executor.execute_fields`` with the plain fields completed by their entries."""
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for (name, details), entry in zip(grouped_field_set.items(), plan.entries, strict=True):
                if entry is not None:
                    try:
                        results[name] = entry(source)
                        continue
                    except Exception:  # noqa: BLE001  completed below, the usual way
                        pass
                result = self.execute_field(parent_type, source, details, Path(path, name, parent_type.name),
                                            position_context)
                if result is not Undefined:
                    results[name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[f] for f in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return _gathered(results, awaitable_fields)

    def complete_list_value(
        self, return_type: GraphQLList[GraphQLOutputType], field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any], path: Path, result: Any, position_context: Any,
    ) -> Any:
        if type(result) is list:
            try:
                return self._complete_plain_list(return_type.of_type, field_details_list, info, result)
            except Exception:  # noqa: BLE001  pure reads: the usual path completes and reports it
                pass
            batch = self._first_level(return_type.of_type, field_details_list, info, path, result)
            if batch is not None:
                return self._complete_levels(batch[0], batch[1], return_type, field_details_list, info, path,
                                             result, position_context)
        return super().complete_list_value(return_type, field_details_list, info, path, result, position_context)

    def _first_level(
        self, item_type: GraphQLOutputType, details: FieldDetailsList, info: GraphQLResolveInfo[Any], path: Path,
        items: list[Any],
    ) -> tuple[Batch, list[Any]] | None:
        """A list whose items' plan is batched (``levels``): its items completed, their look-ups asked."""
        records = getattr(self.context_value, "records", None)
        if not isinstance(records, Records):
            return None
        complete = completer(self, item_type, details, info)
        if complete is None:
            return None
        batch = Batch(self, records)
        try:
            completed = [complete(item, batch, Path(path, i, None)) for i, item in enumerate(items)]
            batch.start()
        except Exception:  # noqa: BLE001  nothing asked yet: the usual path completes and reports it
            return None
        return batch, completed

    async def _complete_levels(
        self, batch: Batch, completed: list[Any], return_type: GraphQLList[GraphQLOutputType],
        details: FieldDetailsList, info: GraphQLResolveInfo[Any], path: Path, items: list[Any],
        position_context: Any,
    ) -> list[Any]:
        await batch.settled()
        if not batch.failed:
            batch.report()
            return completed
        # A record found did not complete cleanly: graphql-core completes the list again from the
        # loaders (nothing is fetched twice) and reports it.
        usual = super().complete_list_value(return_type, details, info, path, items, position_context)
        if self.is_awaitable(usual):  # graphql-core's own test, which the type checker cannot follow
            return await cast(Awaitable[list[Any]], usual)
        return cast(list[Any], usual)

    def _complete_plain_list(
        self, item_type: GraphQLOutputType, details: FieldDetailsList, info: GraphQLResolveInfo[Any], items: list[Any],
    ) -> list[Any]:
        non_null = isinstance(item_type, GraphQLNonNull)
        named = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
        if is_object_type(named) and named.is_type_of is None:
            plan = self.plan_of(named, self.collect_subfields(named, details)[0])
            if not plan.wholly_plain:
                raise Unplanned
            return _completed(plan.complete, items, non_null)
        if not is_abstract_type(named):
            raise Unplanned
        return _completed(_RuntimeTypes(self, named, details, info).complete, items, non_null)


class _RuntimeTypes:
    """Items of an interface or union: each item's type resolved as graphql-core does, its plan per type."""

    def __init__(self, executor: CompiledExecutor, abstract: Any, details: FieldDetailsList,
                 info: GraphQLResolveInfo[Any]) -> None:
        self._executor = executor
        self._abstract = abstract
        self._details = details
        self._info = info
        self._resolve = abstract.resolve_type or executor.type_resolver
        self._plans: dict[str, tuple[ObjectPlan, Any]] = {}

    def complete(self, item: Any) -> dict[str, Any]:
        name = self._resolve(item, self._info, self._abstract)
        if type(name) is not str:
            raise Unplanned
        found = self._plans.get(name)
        if found is None:
            found = self._plans[name] = self._plan(name, item)
        plan, is_type_of = found
        if is_type_of is not None and is_type_of(item, self._info) is not True:
            raise Unplanned
        return plan.complete(item)

    def _plan(self, name: str, item: Any) -> tuple[ObjectPlan, Any]:
        executor = self._executor
        # Kept with the document's plans (when its selection is static), by the abstract type, the
        # runtime type's name and the list's field nodes: each request would check the name and
        # collect the same subfields again.
        key = (self._abstract.name, name, *(id(d.node) for d in self._details))
        found = executor.plans.get_runtime(key)
        if found is not None:
            return found
        runtime = executor.ensure_valid_runtime_type(name, self._abstract, self._details, self._info, item)
        plan = executor.plan_of(runtime, executor.collect_subfields(runtime, self._details)[0])
        if not plan.wholly_plain:
            raise Unplanned
        found = plan, runtime.is_type_of
        executor.plans.put_runtime(key, found)
        return found


def _completed(complete: Any, items: list[Any], non_null: bool) -> list[Any]:
    """Records only: an awaitable item (an entity being fetched) or a null in a non-null list goes the usual way."""
    if not all(type(item) is dict or (item is None and not non_null) for item in items):
        raise Unplanned
    return [None if item is None else complete(item) for item in items]


async def _gathered(results: dict[str, Any], awaitable_fields: list[str]) -> dict[str, Any]:
    if len(awaitable_fields) == 1:
        field = awaitable_fields[0]
        results[field] = await results[field]
        return results
    awaited = await gather_with_cancel(*(results[field] for field in awaitable_fields))
    results.update(zip(awaitable_fields, awaited, strict=True))
    return results
