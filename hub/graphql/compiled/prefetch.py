"""Both levels in one source round: a look-up by key and its selection's records related by that key.

``enterprise(uscc: $u) { name licences { number } }`` is answered in two levels by graphql-core: the
enterprise (Market Regulation), then, once it arrived, ``licences`` from the three licensing
departments. The licences are asked by ``holder_uscc = uscc``: the key the enterprise is looked up
by, known before the enterprise arrives. So when an object's selection has a field that looks one
record up by an argument (``schema.common.by_argument``) and that field's own selection has fields
that read related records by that same key (``schema.common.related``), the related loads are
started as the field starts (``Records.prefetch``: the same request-scoped loaders and entity
cache; prefetched keys batched apart from the keys resolvers ask, and each asked alone if their
batch fails, so a withheld parent's records that fail a call are never an admitted one's error),
and the request takes one source round instead of two.

What is shown and noted does not change: the related fields' resolvers still run only under the
parent that arrived and was admitted, and read the loaders through ``Records`` (the row rule and
the disclosure note); they find the loads started, or done. A parent not found, withheld or failed
drops them unseen: its source calls are what it costs. An argument that does not normalise (bad
input) or a type the caller may not see starts nothing; the resolver reports it as ever.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from graphql import FieldNode, GraphQLField, GraphQLObjectType, get_named_type, is_object_type
from graphql.execution.values import get_argument_values

from hub.data import Records
from hub.data.registers import register_of

if TYPE_CHECKING:
    from graphql.execution.collect_fields import GroupedFieldSet

    from hub.graphql.compiled.executor import CompiledExecutor

Load = tuple[str, str | None]


class Prefetch:
    """A field looking ``type_name`` up by ``argument``, and the related loads its selection reads."""

    __slots__ = ("argument", "field", "loads", "node", "normalize", "type_name")

    def __init__(self, field: GraphQLField, node: FieldNode, type_name: str, argument: str,
                 normalize: Callable[[Any], Any], loads: tuple[Load, ...]) -> None:
        self.field, self.node, self.type_name = field, node, type_name
        self.argument, self.normalize, self.loads = argument, normalize, loads

    def start(self, records: Records, variable_values: Any) -> None:
        """Start the related loads for this execution's key (nothing when the argument is bad)."""
        try:
            arguments = get_argument_values(self.field, self.node, variable_values)
            key = self.normalize(arguments[self.argument])
        except Exception:  # noqa: BLE001  bad input: the field's resolver reports it, nothing is asked
            return
        records.prefetch(self.type_name, key, self.loads)


def plan_prefetch(executor: CompiledExecutor, parent: GraphQLObjectType,
                  fields: GroupedFieldSet) -> tuple[Prefetch, ...]:
    """The selection's look-ups by argument that have related loads to start with them."""
    found: list[Prefetch] = []
    for details in fields.values():
        node = details[0].node
        field = parent.fields.get(node.name.value)
        looks_up = None if field is None else getattr(field.resolve, "looks_up_argument", None)
        if field is None or looks_up is None or len(details) != 1:
            continue  # a field asked twice under one name may differ in its arguments' sources
        type_name, argument, normalize = looks_up
        named = get_named_type(field.type)
        key = register_of(type_name).key
        if not is_object_type(named) or key is None:
            continue
        loads = _related(executor, named, details, key)
        if loads:
            found.append(Prefetch(field, node, type_name, argument, normalize, loads))
    return tuple(found)


def _related(executor: CompiledExecutor, named: GraphQLObjectType, details: Any, key: str) -> tuple[Load, ...]:
    """The loads of the fields of ``named``'s selection that read related records by its ``key``."""
    loads: list[Load] = []
    for sub in executor.collect_subfields(named, details)[0].values():
        field = named.fields.get(sub[0].node.name.value)
        if field is None or field.args:
            continue
        relates = getattr(field.resolve, "relates", None)  # a denied or masked field's resolver is not marked
        if relates is None or relates[0] != key:
            continue
        loads.extend(load for load in relates[1] if load not in loads)
    return tuple(loads)


__all__ = ["Prefetch", "plan_prefetch"]
