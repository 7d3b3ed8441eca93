"""Every resolver of the graph and of every subgraph reads records through ``hub.data.Records`` only.

The walk starts at each field's resolver (and each entity's ``resolve_reference``, each abstract type's
``resolve_type``, each subgraph's ``_entities``), follows the graph's own functions it calls or closes
over, and looks at every name their code uses: a loader, ``Sources``, the entity cache or a connector
reached any other way is reported with the function that reaches it. The compiled execution path is
walked too: it completes the values resolvers returned and never reads a record itself.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import strawberry

import hub.graphql.compiled
from connectors.base import Connector
from hub.context import RequestContext
from hub.data.cache import EntityCache
from hub.data.loaders import Loaders
from hub.data.sources import Sources
from schema import build_schema
from schema.common import ctx
from schema.subgraphs import DEPARTMENTS, build_subgraph

# Attributes that lead to a record around the data path: the request's loaders and sources, the
# cache behind them, a connector and its calls.
AROUND = frozenset({
    "loaders", "_loaders", "sources", "_sources", "cache", "connectors", "connector", "fetch", "select", "prime",
})
# Modules whose objects read records below the data path's rules.
BELOW = ("hub.data.loaders", "hub.data.sources", "hub.data.cache", "connectors")
ALLOWED_BELOW = frozenset({"connectors.base"})  # the record types and conditions, not the Connector


def _function(obj: Any) -> types.FunctionType | None:
    if isinstance(obj, (classmethod, staticmethod)):
        obj = obj.__func__
    if inspect.ismethod(obj):
        obj = obj.__func__
    obj = inspect.unwrap(obj) if callable(obj) else obj
    return obj if isinstance(obj, types.FunctionType) else None


def _codes(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def _below(value: Any) -> bool:
    if value is Connector or value in (Sources, Loaders, EntityCache):
        return True
    module = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None)
    if not isinstance(module, str) or module in ALLOWED_BELOW:
        return False
    return any(module == b or module.startswith(b + ".") for b in BELOW)


def _ours(value: Any) -> bool:
    module = getattr(value, "__module__", "") or ""
    return module.startswith(("schema", "hub.graphql", "tests.graph"))


def around_the_data_path(start: Callable[..., Any]) -> list[str]:
    """Every way ``start`` (or a function of the graph it reaches) gets at records but through ``Records``."""
    found: list[str] = []
    seen: set[types.FunctionType] = set()
    pending = [_function(start)]
    while pending:
        fn = pending.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        where = f"{fn.__module__}.{fn.__qualname__}"
        referenced: list[Any] = [cell.cell_contents for cell in fn.__closure__ or () if _filled(cell)]
        for code in _codes(fn.__code__):
            for name in code.co_names:
                if name in AROUND:
                    found.append(f"{where} uses .{name}")
                if name in fn.__globals__:
                    referenced.append(fn.__globals__[name])
        for value in referenced:
            if _below(value):
                found.append(f"{where} reaches {getattr(value, '__name__', value)!r}")
            elif _ours(value) and _function(value) is not None:
                pending.append(_function(value))
    return found


def _filled(cell: types.CellType) -> bool:
    try:
        cell.cell_contents  # noqa: B018  an empty cell (a name assigned later) raises
    except ValueError:
        return False
    return True


def resolvers_of(schema: strawberry.Schema) -> Iterator[tuple[str, Callable[..., Any]]]:
    """Each field's resolver, and the type hooks and entity resolution graphql-core calls."""
    for name, t in schema.schema_converter.type_map.items():
        definition = getattr(t, "definition", None)
        for f in getattr(definition, "fields", None) or ():
            if f.base_resolver is not None:
                yield f"{name}.{f.python_name}", f.base_resolver.wrapped_func
        origin = getattr(definition, "origin", None)
        for hook in ("resolve_reference", "resolve_type", "is_type_of"):
            found = inspect.getattr_static(origin, hook, None) if origin is not None else None
            if found is not None:
                yield f"{name}.{hook}", found
    if isinstance(schema, strawberry.federation.Schema):
        yield "_entities", type(schema).entities_resolver


def every_resolver() -> list[tuple[str, str, Callable[..., Any]]]:
    schemas: list[tuple[str, strawberry.Schema]] = [("graph", build_schema())]
    schemas += [(department, build_subgraph(department)) for department in DEPARTMENTS]
    return [(where, field, fn) for where, schema in schemas for field, fn in resolvers_of(schema)]


def test_every_resolver_of_the_graph_and_the_subgraphs_reads_records_through_the_data_path() -> None:
    resolvers = every_resolver()
    names = {(where, field) for where, field, _ in resolvers}
    # The walk reaches what it must (not an empty pass): look-ups, relations, lists, entity references.
    assert {("graph", "Enterprise.tax_registration"), ("graph", "Query.enterprises"), ("graph", "Query.licences"),
            ("centre", "Enterprise.resolve_reference"), ("taxation", "Enterprise.resolve_reference"),
            ("security", "Person.identity_verification"), ("market", "_entities")} <= names
    offences = {f"{where} {field}: {o}" for where, field, fn in resolvers for o in around_the_data_path(fn)}
    assert sorted(offences) == []


def test_the_request_context_hands_resolvers_no_loader_source_or_cache() -> None:
    fields = {f.name for f in dataclasses.fields(RequestContext)}
    assert "records" in fields
    assert not fields & AROUND


def _compiled_functions() -> Iterator[tuple[str, Callable[..., Any]]]:
    for info in pkgutil.iter_modules(hub.graphql.compiled.__path__, "hub.graphql.compiled."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if getattr(value, "__module__", None) != module.__name__:
                continue
            if inspect.isclass(value):
                yield from ((f"{name}.{m}", f) for m, f in vars(value).items() if _function(f) is not None)
            elif _function(value) is not None:
                yield name, value


def test_the_compiled_path_completes_values_resolvers_returned_and_reads_no_record_itself() -> None:
    functions = list(_compiled_functions())
    assert len(functions) > 5
    assert sorted(o for _, fn in functions for o in around_the_data_path(fn)) == []


# The walk itself, shown failing on resolvers that go around the data path.

async def _around_through_the_loaders(root: dict[str, Any], info: Any) -> Any:
    return await ctx(info).records._loaders.one("market", "enterprise", "uscc", root["uscc"])


def _sources_of(info: Any) -> Sources:
    return info.context.hub.sources  # type: ignore[no-any-return]


async def _around_through_a_helper(root: dict[str, Any], info: Any) -> Any:
    return await _sources_of(info).fetch("market", "enterprise", "uscc", [root["uscc"]])


def _around_in_a_closure() -> Callable[..., Any]:
    below = Loaders

    async def resolve(root: dict[str, Any], info: Any) -> Any:
        return below

    return resolve


@pytest.mark.parametrize("resolver", [_around_through_the_loaders, _around_through_a_helper, _around_in_a_closure()])
def test_the_walk_reports_a_resolver_that_goes_around_the_data_path(resolver: Callable[..., Any]) -> None:
    assert around_the_data_path(resolver) != []
