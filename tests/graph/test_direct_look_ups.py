"""Root look-ups by required text arguments are called straight from graphql-core
(``schema.call_text_look_ups_directly``): the same answers and errors as strawberry's own path,
and only for arguments strawberry would pass on unconverted."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import graphql
from strawberry.types import Info

from hub.strawberry_bridge import graphql_schema
from schema import build_schema, call_text_look_ups_directly


def _schemas() -> tuple[strawberry.Schema, strawberry.Schema]:
    @strawberry.type
    class Query:
        @strawberry.field
        def echo(self, info: Info, text_value: str) -> str:
            return text_value

        @strawberry.field
        async def look_up(info: Info, some_key: str, other: str) -> str:
            if some_key == "bad":
                raise ValueError("bad key")
            return f"{some_key}/{other}/{info.field_name}"

        @strawberry.field
        async def counted(info: Info, first: int) -> int:
            return first

        @strawberry.field
        async def optional(info: Info, key: str | None = None) -> str:
            return key or "none"

    plain, direct = strawberry.Schema(query=Query), strawberry.Schema(query=Query)
    call_text_look_ups_directly(direct.config.info_class, graphql_schema(direct))
    return plain, direct


async def _both(query: str) -> tuple[Any, Any]:
    plain, direct = _schemas()
    one, other = await graphql(graphql_schema(plain), query), await graphql(graphql_schema(direct), query)
    return one, other


async def test_a_look_up_by_required_text_answers_as_strawberry_does() -> None:
    one, other = await _both('{ lookUp(someKey: "a", other: "b") }')
    assert other.data == one.data == {"lookUp": "a/b/lookUp"} and not one.errors and not other.errors


async def test_a_look_up_that_raises_is_the_same_error_at_the_same_path() -> None:
    one, other = await _both('{ lookUp(someKey: "bad", other: "b") }')
    assert one.data is None and other.data is None
    assert [(e.message, e.path) for e in other.errors] == [(e.message, e.path) for e in one.errors]


def test_only_fields_whose_arguments_are_all_required_text_and_without_a_root_are_called_directly() -> None:
    _, direct = _schemas()
    fields = graphql_schema(direct).query_type.fields
    changed = {name for name, field in fields.items() if "called_with_arguments" in field.resolve.__qualname__}
    assert changed == {"lookUp"}  # echo takes self, counted an Int, optional a default


def test_the_hubs_look_ups_by_text_are_called_directly_and_keep_their_prefetch_mark() -> None:
    fields = graphql_schema(build_schema()).query_type.fields
    direct = {name for name, field in fields.items() if "called_with_arguments" in field.resolve.__qualname__}
    assert {"enterprise", "person", "licence", "case"} <= direct
    assert fields["enterprise"].resolve.looks_up_argument[:2] == ("Enterprise", "uscc")
