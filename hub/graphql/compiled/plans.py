"""Plans: for one object type and selection in a caller's view, how each field completes.

A field is *plain* when it takes no arguments and its resolver is one of the graph's record readers
(``schema.read_plain_fields_directly``, marked ``record_key``) or the view's mask over one (marked
``record_mask``); ``__typename`` is plain too. A plain field's value completes without graphql-core
when it is a scalar or enum, a list of them, or an object (not an interface or union) whose own
selection is wholly plain. Each plain field becomes an *entry*: a closure from the source record to
the completed value that raises ``Unplanned`` on anything unusual, so the caller completes that
field the usual way instead.

Plans are kept with the prepared document (``hub.graphql.documents.Document.plans``), itself kept
per caller's view, keyed by the selection's field nodes; a document whose selection depends on
variables (``@skip``/``@include`` with a variable) keeps its plans for one execution only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    Undefined,
    VariableNode,
    Visitor,
    is_enum_type,
    is_leaf_type,
    is_object_type,
    visit,
)
from graphql.pyutils import is_awaitable

if TYPE_CHECKING:
    from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet

    from hub.graphql.compiled.executor import CompiledExecutor

Entry = Callable[[Any], Any]  # source record -> completed value; raises Unplanned
Complete = Callable[[Any], Any]  # value read -> completed value; raises Unplanned


class Unplanned(Exception):  # a signal, not an error: "complete this the usual way"
    """The value did not complete cleanly; graphql-core completes (and reports) it instead."""


class ObjectPlan:
    """One object type's selection: an entry per response name (None: not plain), in selection order.

    A wholly plain plan also has ``complete``: one function, generated for the selection, that reads
    each field straight from the record and completes the common cases inline (text as stored, an
    enum's stored value, a finite float, a 32-bit int, a boolean, a nested record or a list of them
    through its own plan's ``complete``), leaving everything else to the field's entry.

    A *batched* plan (``later``: its look-ups and the nested records that hold look-ups, by response
    name, ``hub.graphql.compiled.levels``) has the same ``complete`` for its plain fields, which leaves
    null in the slots of the others; a list's look-ups fill them level by level.
    """

    __slots__ = ("complete", "entries", "later", "names", "prefetch")

    def __init__(self, names: tuple[str, ...], planned: tuple[Planned | None, ...],
                 later: tuple[Any, ...] = ()) -> None:
        self.names = names
        self.entries: tuple[Entry | None, ...] = tuple(None if p is None else p.entry for p in planned)
        self.complete: Callable[[Any], dict[str, Any]] = _unplanned
        self.later: tuple[tuple[str, Any], ...] = ()
        # Its look-ups by argument whose related records are asked with them (``prefetch``).
        self.prefetch: tuple[Any, ...] = ()
        every = tuple(p for p in planned if p is not None)
        if len(every) == len(planned):
            self.complete = _object_function(names, every)
        elif later and all(p is not None or w is not None for p, w in zip(planned, later, strict=True)):
            self.later = tuple((n, w) for n, p, w in zip(names, planned, later, strict=True) if p is None)
            self.complete = _object_function(names, tuple(_SLOT if p is None else p for p in planned))

    @property
    def wholly_plain(self) -> bool:
        return self.complete is not _unplanned and not self.later

    @property
    def batched(self) -> bool:
        return bool(self.later)

    @property
    def partly_plain(self) -> bool:
        return any(e is not None for e in self.entries)


@dataclass(frozen=True, slots=True)
class Inline:
    """How a plain field's stored value completes inline (anything else: the field's entry).

    ``kind``: ``text`` (a str stored is the str answered), ``lookup`` (a str found in ``values`` is
    answered as ``values`` maps it: an enum's stored values and their names), ``float`` (a finite
    float), ``int`` (an int within 32 bits), ``bool``, ``record`` (a dict, completed by ``complete``)
    or ``records`` (a list whose items are dicts completed by ``complete``, or null where ``item``
    allows). ``nullable``: a stored null is answered as null.
    """

    kind: str
    nullable: bool
    values: dict[str, Any] | None = None
    complete: Complete | None = None
    item: Complete | None = None


@dataclass(frozen=True, slots=True)
class Planned:
    entry: Entry
    key: str | None = None  # the record key, when the field reads the record unmasked
    inline: Inline | None = None
    constant: str | None = None  # __typename
    slot: bool = False  # completed later (a batched plan's look-up): null until then


def _unplanned(source: Any) -> dict[str, Any]:
    raise Unplanned


_SLOT = Planned(_unplanned, slot=True)


_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def _object_function(names: tuple[str, ...], planned: tuple[Planned, ...]) -> Callable[[Any], dict[str, Any]]:
    """``complete(record) -> dict``, the object's fields in selection order (source generated once per plan)."""
    namespace: dict[str, Any] = {"_INT_MIN": _INT_MIN, "_INT_MAX": _INT_MAX}
    lines = [
        "def complete(source):",
        "    if type(source) is not dict:",
        "        return {" + ", ".join(f"{n!r}: e{i}(source)" for i, n in enumerate(names)) + "}",
        "    get = source.get",
    ]
    for i, p in enumerate(planned):
        namespace[f"e{i}"] = p.entry
        lines += _field_lines(i, p, namespace)
    lines.append("    return {" + ", ".join(f"{n!r}: v{i}" for i, n in enumerate(names)) + "}")
    exec("\n".join(lines), namespace)  # names are GraphQL names, keys Python names, both repr'd
    complete: Callable[[Any], dict[str, Any]] = namespace["complete"]  # made by exec just above
    return complete


def _field_lines(i: int, p: Planned, namespace: dict[str, Any]) -> list[str]:
    """The generated lines that leave field ``i``'s completed value in ``v{i}``."""
    v, fallback = f"v{i}", f"e{i}(source)"
    if p.slot:
        return [f"    {v} = None"]
    if p.constant is not None:
        return [f"    {v} = {p.constant!r}"]
    inline = p.inline
    if p.key is None or inline is None:
        return [f"    {v} = {fallback}"]
    lines = [f"    {v} = get({p.key!r})"]
    null = f"{v} is None" if inline.nullable else "False"
    kind = inline.kind
    if kind == "text":
        lines.append(f"    if type({v}) is not str and not ({null}): {v} = {fallback}")
    elif kind == "lookup":
        namespace[f"m{i}"] = inline.values
        lines.append(f"    if type({v}) is str and {v} in m{i}: {v} = m{i}[{v}]")
        lines.append(f"    elif not ({null}): {v} = {fallback}")
    elif kind == "float":  # finite: x - x is 0.0 for every float but inf and nan
        lines.append(f"    if not (type({v}) is float and {v} - {v} == 0.0) and not ({null}): {v} = {fallback}")
    elif kind == "int":
        within = f"type({v}) is int and _INT_MIN <= {v} <= _INT_MAX"
        lines.append(f"    if not ({within}) and not ({null}): {v} = {fallback}")
    elif kind == "bool":
        lines.append(f"    if type({v}) is not bool and not ({null}): {v} = {fallback}")
    elif kind == "record":
        namespace[f"c{i}"] = inline.complete
        lines.append(f"    if type({v}) is dict: {v} = c{i}({v})")
        lines.append(f"    elif not ({null}): {v} = {fallback}")
    elif kind == "records":
        namespace[f"c{i}"], namespace[f"t{i}"] = inline.complete, inline.item
        lines.append(f"    if type({v}) is list: {v} = [c{i}(x) if type(x) is dict else t{i}(x) for x in {v}]")
        lines.append(f"    elif not ({null}): {v} = {fallback}")
    else:  # pragma: no cover  every kind _inline makes is handled above
        raise ValueError(kind)
    return lines


class Plans:
    """The plans of one prepared document in one view, by (type, selection's field nodes)."""

    def __init__(self, node: DocumentNode | None) -> None:
        self.static = node is not None and not _selection_varies(node)
        self._plans: dict[tuple[Any, ...], ObjectPlan] = {}
        # A list of an interface or union: each runtime type's plan and its ``is_type_of``.
        self._runtime: dict[tuple[Any, ...], tuple[ObjectPlan, Any]] = {}

    def get(self, key: tuple[Any, ...]) -> ObjectPlan | None:
        return self._plans.get(key) if self.static else None

    def put(self, key: tuple[Any, ...], plan: ObjectPlan) -> None:
        if self.static:
            self._plans[key] = plan

    def get_runtime(self, key: tuple[Any, ...]) -> tuple[ObjectPlan, Any] | None:
        return self._runtime.get(key) if self.static else None

    def put_runtime(self, key: tuple[Any, ...], found: tuple[ObjectPlan, Any]) -> None:
        if self.static:
            self._runtime[key] = found


def plan_key(parent_type: GraphQLObjectType, fields: GroupedFieldSet) -> tuple[Any, ...]:
    """The selection's identity within its document: the type and every field node, by response name."""
    return (parent_type.name, *((name, *(id(d.node) for d in details)) for name, details in fields.items()))


def build_plan(executor: CompiledExecutor, parent_type: GraphQLObjectType, fields: GroupedFieldSet) -> ObjectPlan:
    planned = tuple(_entry(executor, parent_type, details) for details in fields.values())
    if all(p is not None for p in planned):
        return ObjectPlan(tuple(fields), planned)
    from hub.graphql.compiled.levels import plan_later  # levels builds on this module: imported when needed
    from hub.graphql.compiled.prefetch import plan_prefetch

    plan = ObjectPlan(tuple(fields), planned, plan_later(executor, parent_type, fields, planned))
    plan.prefetch = plan_prefetch(executor, parent_type, fields)
    return plan


def _entry(executor: CompiledExecutor, parent_type: GraphQLObjectType, details: FieldDetailsList) -> Planned | None:
    node = details[0].node
    name = node.name.value
    if name == "__typename":
        type_name = parent_type.name
        return Planned(lambda source: type_name, constant=type_name)
    field = parent_type.fields.get(name)
    if field is None or field.args or any(d.node.arguments for d in details):
        return None
    read = _reader(field.resolve)
    complete = None if read is None else _completer(executor, field.type, details)
    if read is None or complete is None:
        return None
    key = None if getattr(field.resolve, "record_mask", False) else getattr(field.resolve, "record_key", None)
    return Planned(lambda source: complete(read(source)), key,
                   None if key is None else _inline(executor, field.type, details))


def _inline(executor: CompiledExecutor, output: GraphQLOutputType, details: FieldDetailsList) -> Inline | None:
    """How the field's stored value completes inline, when it is one of the common cases (``Inline``)."""
    nullable = not isinstance(output, GraphQLNonNull)
    inner = output.of_type if isinstance(output, GraphQLNonNull) else output
    if is_leaf_type(inner):
        if _text_as_is(inner):
            return Inline("text", nullable)
        if inner is GraphQLFloat or inner is GraphQLInt or inner is GraphQLBoolean:
            return Inline({GraphQLFloat: "float", GraphQLInt: "int", GraphQLBoolean: "bool"}[inner], nullable)
        if is_enum_type(inner):
            values = _enum_values(inner)
            return None if values is None else Inline("lookup", nullable, values=values)
        return None
    if is_object_type(inner) and inner.is_type_of is None:
        plan = executor.plan_of(inner, executor.collect_subfields(inner, details)[0])
        return Inline("record", nullable, complete=plan.complete) if plan.wholly_plain else None
    if isinstance(inner, GraphQLList):
        item_type = inner.of_type
        named = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
        item = _completer(executor, item_type, details)
        if item is None or not is_object_type(named) or named.is_type_of is not None:
            return None
        plan = executor.plan_of(named, executor.collect_subfields(named, details)[0])
        return Inline("records", nullable, complete=plan.complete, item=item) if plan.wholly_plain else None
    return None


def _enum_values(enum: GraphQLEnumType) -> dict[str, Any] | None:
    """Each stored str value of the enum and what the enum's own coercion answers for it."""
    values: dict[str, Any] = {}
    for definition in enum.values.values():
        if type(definition.value) is not str:
            return None  # values that are not str: the coercion decides each time
        coerced: Any = enum.coerce_output_value(definition.value)  # Undefined where it cannot
        if coerced is None or coerced is Undefined:
            return None
        values[definition.value] = coerced
    return values


def _text_as_is(leaf: GraphQLLeafType) -> bool:
    # The scalars whose coercion gives a str back as it is (strawberry's Date: ``serialize=str``).
    return leaf is GraphQLString or leaf is GraphQLID or leaf.coerce_output_value is str


def _reader(resolve: Any) -> Callable[[Any], Any] | None:
    key = getattr(resolve, "record_key", None)
    if key is None:
        return None
    if getattr(resolve, "record_mask", False):
        return lambda source: resolve(source, None)  # the view's masked reader: the read and the mask

    def read(source: Any) -> Any:
        return source.get(key) if type(source) is dict else resolve(source, None)

    return read


def _completer(executor: CompiledExecutor, output: GraphQLOutputType, details: FieldDetailsList) -> Complete | None:
    if isinstance(output, GraphQLNonNull):
        inner = _completer(executor, output.of_type, details)
        return None if inner is None else _non_null(inner)
    if isinstance(output, GraphQLList):
        item = _completer(executor, output.of_type, details)
        return None if item is None else _nullable(_list(item))
    if is_leaf_type(output):
        return _nullable(_leaf(output))
    if is_object_type(output) and output.is_type_of is None:
        plan = executor.plan_of(output, executor.collect_subfields(output, details)[0])
        return _nullable(_record(plan.complete)) if plan.wholly_plain else None
    return None  # interfaces and unions: graphql-core resolves the type


def _record(complete: Complete) -> Complete:
    def record(value: Any) -> Any:
        if type(value) is not dict:  # records are dicts; anything else (an awaitable) goes the usual way
            raise Unplanned
        return complete(value)

    return record


def _non_null(inner: Complete) -> Complete:
    def complete(value: Any) -> Any:
        completed = None if value is None else inner(value)
        if completed is None:
            raise Unplanned
        return completed

    return complete


def _nullable(inner: Complete) -> Complete:
    return lambda value: None if value is None else inner(value)


def _list(item: Complete) -> Complete:
    def complete(value: Any) -> Any:
        if type(value) is not list and type(value) is not tuple:
            raise Unplanned
        return [item(v) for v in value]

    return complete


_STORED = frozenset({str, int, float, bool})  # what sources store: never an exception or an awaitable


def _leaf(leaf: GraphQLLeafType) -> Complete:
    coerce = leaf.coerce_output_value
    text_as_is = _text_as_is(leaf)

    def complete(value: Any) -> Any:
        kind = type(value)
        if kind is str and text_as_is:
            return value
        if kind not in _STORED and (isinstance(value, Exception) or is_awaitable(value)):
            raise Unplanned  # graphql-core raises the one and awaits the other
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise Unplanned
        return coerced

    return complete


def _selection_varies(node: DocumentNode) -> bool:
    """Whether some ``@skip``/``@include`` takes a variable (the selection then depends on the request)."""
    found: list[bool] = []

    class Directives(Visitor):
        def enter_directive(self, directive: DirectiveNode, *_: Any) -> None:
            if directive.name.value in ("skip", "include") and any(
                isinstance(a.value, VariableNode) for a in directive.arguments or ()
            ):
                found.append(True)

    visit(node, Directives())
    return bool(found)


__all__: list[str] = ["ObjectPlan", "Plans", "Unplanned", "build_plan", "plan_key"]
