"""A department binding: which source the hub reads and how its names map to the graph's.

A binding is a TOML file in ``connectors/departments/`` (one per department). Loading is strict:
a missing or misspelt key, a key field that is not among the fields, an unknown source kind or a
value of the wrong type raises ``BindingError`` naming the file and the problem, so a bad binding
stops the hub at start-up instead of surfacing as a wrong answer later.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast

Kind = Literal["sql", "rest", "graphql"]
KINDS: tuple[Kind, ...] = ("sql", "rest", "graphql")
PARAM_NAMES = frozenset({"eq", "in", "prefix", "gte", "lte", "order_by", "after", "limit"})
# A GraphQL filter argument takes one String value; "in" is the key lookup's own argument.
FILTER_OPS = frozenset({"eq", "prefix", "gte", "lte"})
_GRAPHQL_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")

_TOP_KEYS = frozenset({"department", "title", "title_local", "source", "entities"})
_SOURCE_KEYS = frozenset({"kind", "url", "timeout", "cache_ttl"})
_COMMON_ENTITY_KEYS = frozenset({"key", "fields", "values"})
# Each kind reads its own keys; anything else in an entity is a mistake worth naming.
_KIND_ENTITY_KEYS: dict[Kind, frozenset[str]] = {
    "sql": frozenset({"table"}),
    "rest": frozenset({"path", "items", "params", "max_keys"}),
    "graphql": frozenset({"query", "key_argument", "key_type", "max_keys", "filters"}),
}
_PLACEHOLDER = re.compile(r"\{[A-Za-z_]+\}")


class BindingError(ValueError):
    """A binding file that cannot be used; the message names the file and what is wrong."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


@dataclass(frozen=True, slots=True)
class SourceBinding:
    kind: Kind
    url: str
    timeout: float
    cache_ttl: float


@dataclass(frozen=True, slots=True)
class EntityBinding:
    """One entity of a source: its key, graph field -> source name, and how the kind reaches it."""

    name: str
    key: str
    fields: Mapping[str, str]
    table: str | None = None
    path: str | None = None
    items: str | None = None
    params: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    max_keys: int | None = None
    query: str | None = None
    key_argument: str | None = None
    key_type: str | None = None
    # GraphQL: graph field -> {op -> the root field's argument taking that filter}.
    filters: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: MappingProxyType({}))
    # graph field -> {the department's value -> the graph's value}, e.g. status 有效 -> VALID.
    values: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class Binding:
    department: str
    title: str
    title_local: str
    source: SourceBinding
    entities: Mapping[str, EntityBinding]
    file: str = "<binding>"

    def with_source(
        self, *, url: str | None = None, timeout: float | None = None, cache_ttl: float | None = None
    ) -> Binding:
        """A copy whose source settings are overridden where given (settings override bindings)."""
        source = replace(
            self.source,
            url=self.source.url if url is None else url,
            timeout=self.source.timeout if timeout is None else float(timeout),
            cache_ttl=self.source.cache_ttl if cache_ttl is None else float(cache_ttl),
        )
        return replace(self, source=source)

    def resolved_url(self) -> str:
        """The source URL, refusing one whose ``{demo_data}``-style placeholder nobody filled in."""
        placeholder = _PLACEHOLDER.search(self.source.url)
        if placeholder:
            raise BindingError(self.file, f"source url still contains {placeholder.group()}")
        return self.source.url


def load_binding(path: Path | str) -> Binding:
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BindingError(path, f"cannot be read ({exc.strerror or type(exc).__name__})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise BindingError(path, f"is not valid TOML ({exc})") from exc
    return _Reader(path).binding(document)


def load_bindings(directory: Path | str) -> dict[str, Binding]:
    """Every ``*.toml`` binding in ``directory``, by department; two files for one department is an error."""
    bindings: dict[str, Binding] = {}
    for path in sorted(Path(directory).glob("*.toml")):
        binding = load_binding(path)
        if binding.department in bindings:
            other = bindings[binding.department].file
            raise BindingError(path, f"department {binding.department!r} is already bound in {other}")
        bindings[binding.department] = binding
    return bindings


class _Reader:
    """Validates one parsed document; every complaint carries the file and the TOML location."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, problem: str) -> BindingError:
        return BindingError(self.path, problem)

    def binding(self, doc: dict[str, Any]) -> Binding:
        self.no_unknown_keys(doc, _TOP_KEYS, "the top level")
        source = self.source(self.table(doc, "source", "the top level"))
        entities_doc = self.table(doc, "entities", "the top level")
        if not entities_doc:
            raise self.fail("[entities] declares no entity")
        entities = {
            name: self.entity(name, self.table(entities_doc, name, "[entities]"), source.kind)
            for name in entities_doc
        }
        return Binding(
            department=self.text(doc, "department", "the top level"),
            title=self.text(doc, "title", "the top level"),
            title_local=self.text(doc, "title_local", "the top level"),
            source=source,
            entities=MappingProxyType(entities),
            file=str(self.path),
        )

    def source(self, doc: dict[str, Any]) -> SourceBinding:
        self.no_unknown_keys(doc, _SOURCE_KEYS, "[source]")
        kind = self.text(doc, "kind", "[source]")
        if kind not in KINDS:
            raise self.fail(f"[source] kind {kind!r} is unknown (expected one of {', '.join(KINDS)})")
        timeout = self.number(doc, "timeout", "[source]")
        if timeout <= 0:
            raise self.fail("[source] timeout must be greater than 0")
        cache_ttl = self.number(doc, "cache_ttl", "[source]")
        if cache_ttl < 0:
            raise self.fail("[source] cache_ttl must not be negative")
        return SourceBinding(kind, self.text(doc, "url", "[source]"), timeout, cache_ttl)

    def entity(self, name: str, doc: dict[str, Any], kind: Kind) -> EntityBinding:
        where = f"[entities.{name}]"
        self.no_unknown_keys(doc, _COMMON_ENTITY_KEYS | _KIND_ENTITY_KEYS[kind], f"{where} ({kind})")
        fields = self.names(self.table(doc, "fields", where), f"{where}.fields")
        if not fields:
            raise self.fail(f"{where}.fields declares no field")
        key = self.text(doc, "key", where)
        if key not in fields:
            raise self.fail(f"{where} key {key!r} is not among its fields")
        entity = EntityBinding(
            name=name, key=key, fields=MappingProxyType(fields), values=self.values(doc, fields, where)
        )
        if kind == "sql":
            return replace(entity, table=self.text(doc, "table", where))
        if kind == "rest":
            return self.rest_entity(entity, doc, where)
        key_argument = self.text(doc, "key_argument", where)
        return replace(
            entity,
            query=self.text(doc, "query", where),
            key_argument=key_argument,
            key_type=self.text(doc, "key_type", where),
            max_keys=self.positive_int(doc, "max_keys", where),
            filters=self.filters(doc, fields, key_argument, where),
        )

    def filters(
        self, doc: dict[str, Any], fields: dict[str, str], key_argument: str, where: str
    ) -> Mapping[str, Mapping[str, str]]:
        """``[entities.X.filters.<field>]``: op = the argument the service takes that filter as."""
        if "filters" not in doc:
            return MappingProxyType({})
        taken = {key_argument}
        filters: dict[str, Mapping[str, str]] = {}
        for field_name, ops in self.table(doc, "filters", where).items():
            at = f"{where}.filters.{field_name}"
            if field_name not in fields:
                raise self.fail(f"{where}.filters names {field_name!r}, which is not among its fields")
            if not isinstance(ops, dict) or not ops:
                raise self.fail(f"{at} must be a non-empty table")
            self.no_unknown_keys(ops, FILTER_OPS, at)
            for argument in self.names(ops, at).values():
                # The argument is written into the operation text: only a GraphQL name may go there.
                if not _GRAPHQL_NAME.fullmatch(argument):
                    raise self.fail(f"{at} argument {argument!r} is not a GraphQL name")
                if argument in taken:
                    raise self.fail(f"{at} argument {argument!r} is already taken")
                taken.add(argument)
            filters[field_name] = MappingProxyType(dict(ops))
        return MappingProxyType(filters)

    def rest_entity(self, entity: EntityBinding, doc: dict[str, Any], where: str) -> EntityBinding:
        path = self.text(doc, "path", where)
        if not path.startswith("/"):
            raise self.fail(f"{where} path {path!r} must start with '/'")
        params = self.names(self.table(doc, "params", where), f"{where}.params")
        self.no_unknown_keys(params, PARAM_NAMES, f"{where}.params")
        for required in ("in", "order_by", "after", "limit"):
            if required not in params:
                raise self.fail(f"{where}.params lacks {required!r}, which fetch and paging need")
        return replace(
            entity,
            path=path,
            items=self.text(doc, "items", where),
            params=MappingProxyType(params),
            max_keys=self.positive_int(doc, "max_keys", where),
        )

    def values(self, doc: dict[str, Any], fields: dict[str, str], where: str) -> Mapping[str, Mapping[str, str]]:
        """``[entities.X.values.<field>]``: how the department's codes read in the graph."""
        if "values" not in doc:
            return MappingProxyType({})
        maps: dict[str, Mapping[str, str]] = {}
        for field_name, mapping in self.table(doc, "values", where).items():
            if field_name not in fields:
                raise self.fail(f"{where}.values names {field_name!r}, which is not among its fields")
            if not isinstance(mapping, dict) or not mapping:
                raise self.fail(f"{where}.values.{field_name} must be a non-empty table")
            maps[field_name] = MappingProxyType(self.names(mapping, f"{where}.values.{field_name}"))
        return MappingProxyType(maps)

    def no_unknown_keys(self, doc: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
        unknown = sorted(set(doc) - allowed)
        if unknown:
            raise self.fail(f"{where} has unknown key(s) {', '.join(map(repr, unknown))}")

    def value(self, doc: Mapping[str, Any], key: str, where: str) -> Any:
        if key not in doc:
            raise self.fail(f"{where} lacks {key!r}")
        return doc[key]

    def table(self, doc: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
        value = self.value(doc, key, where)
        if not isinstance(value, dict):
            raise self.fail(f"{where} {key!r} must be a table, not {type(value).__name__}")
        return value

    def text(self, doc: Mapping[str, Any], key: str, where: str) -> str:
        value = self.value(doc, key, where)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{where} {key!r} must be a non-empty string, not {value!r}")
        return value

    def number(self, doc: Mapping[str, Any], key: str, where: str) -> float:
        value = self.value(doc, key, where)
        # bool is an int in Python; `timeout = true` is still a mistake.
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"{where} {key!r} must be a number, not {value!r}")
        return float(value)

    def positive_int(self, doc: Mapping[str, Any], key: str, where: str) -> int:
        value = self.value(doc, key, where)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(f"{where} {key!r} must be a positive integer, not {value!r}")
        return value

    def names(self, doc: dict[str, Any], where: str) -> dict[str, str]:
        for name, value in doc.items():
            if not isinstance(value, str) or not value.strip():
                raise self.fail(f"{where} {name!r} must map to a non-empty string, not {value!r}")
        return cast(dict[str, str], doc)
