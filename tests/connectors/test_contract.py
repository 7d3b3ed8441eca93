"""The connector contract, run over every kind: SQLite, PostgreSQL, MariaDB, REST and GraphQL.

Each subject's answers are compared with the rows read straight from the department's demo SQLite
file. A kind that cannot push a filter says so through ``supports`` and then refuses the query with
``UnsupportedQuery``; the GraphQL kind, whose service offers no listing, answers key lookups only,
narrowed by the filters its binding declares.
"""

from __future__ import annotations

import math
import time
from typing import Any

import orjson
import pytest

from connectors import Condition, Connector, Page, SourceError, UnsupportedQuery
from connectors.base import Op, Record
from tests.connectors.subjects import Subject

OPS: tuple[Op, ...] = ("eq", "in", "prefix", "gte", "lte")
JSON_TYPES = (str, int, float, bool, type(None))


def by_key(records: list[Record], key: str) -> list[Record]:
    return sorted(records, key=lambda record: record[key])


def assert_same_records(subject: Subject, actual: list[Record], expected: list[Record]) -> None:
    """Same records; floats within the source's precision (exact except on MariaDB's FLOAT)."""
    assert [record[subject.key] for record in actual] == [record[subject.key] for record in expected]
    for got, want in zip(actual, expected, strict=True):
        approx = {
            name: pytest.approx(value, rel=subject.float_rel) if isinstance(value, float) else value
            for name, value in want.items()
        }
        assert got == approx


def sample_keys(subject: Subject, count: int) -> list[Any]:
    keys = subject.reference.keys()
    step = max(1, len(keys) // count)
    return keys[::step][:count]


def condition_for(subject: Subject, op: Op) -> tuple[Condition, str, list[Any]]:
    """A condition with ``op`` that matches some but not all rows, and the same filter as SQL."""
    ref, probe = subject.reference, subject.probe
    field = {"eq": probe.eq, "in": probe.eq, "prefix": probe.prefix}.get(op, probe.range)
    values = sorted({row[field] for row in ref.rows() if row[field] is not None})
    column = ref.column(field)
    if op == "eq":
        return Condition(field, "eq", values[0]), f"{column} = ?", [values[0]]
    if op == "in":
        chosen = values[:2]
        return Condition(field, "in", chosen), f"{column} IN (?, ?)", chosen
    if op == "prefix":
        prefix = proper_prefix(values, values[len(values) // 2])
        return Condition(field, "prefix", prefix), f"substr({column}, 1, {len(prefix)}) = ?", [prefix]
    middle = values[len(values) // 2]
    return Condition(field, op, middle), f"{column} {'>=' if op == 'gte' else '<='} ?", [middle]


def key_lookup(subject: Subject) -> list[Condition]:
    """What a GraphQL subject's select needs beside a filter (every key); nothing for a listing kind."""
    if subject.kind != "graphql":
        return []
    return [Condition(subject.key, "in", subject.reference.keys())]


def proper_prefix(values: list[Any], value: str) -> str:
    """The shortest prefix of ``value`` that some, but not all, of ``values`` start with."""
    for length in range(1, len(value) + 1):
        prefix = value[:length]
        if not all(str(other).startswith(prefix) for other in values):
            return prefix
    return value


async def test_fetching_by_key_returns_exactly_the_matching_records_under_graph_names(
    subject: Subject,
) -> None:
    keys = sample_keys(subject, 5)
    records = await subject.connector.fetch(subject.entity, subject.key, keys)
    expected = [row for row in subject.reference.rows() if row[subject.key] in keys]
    assert len(expected) == 5
    assert_same_records(subject, by_key(records, subject.key), expected)


async def test_every_number_of_keys_is_answered_with_exactly_those_keys(subject: Subject) -> None:
    """Batches of every size up to nine keys and one past a power of two (a SQL department asks
    them by size class, the last key repeated to fill it), each with a key it does not hold first."""
    known = subject.reference.keys()
    for count in [*range(1, 10), 17]:
        keys = known[:count]
        records = await subject.connector.fetch(subject.entity, subject.key, [subject.probe.unknown_key, *keys])
        assert sorted(record[subject.key] for record in records) == sorted(keys), count  # each once


async def test_duplicate_keys_are_asked_for_once_and_answered_once(subject: Subject) -> None:
    keys = sample_keys(subject, 3)
    before = subject.calls()
    records = await subject.connector.fetch(subject.entity, subject.key, keys * 3 + keys[::-1])
    assert subject.calls() - before == 1
    assert sorted(record[subject.key] for record in records) == sorted(keys)


async def test_unknown_keys_are_absent_from_the_answer(subject: Subject) -> None:
    keys = sample_keys(subject, 2)
    records = await subject.connector.fetch(subject.entity, subject.key, [*keys, subject.probe.unknown_key])
    assert sorted(record[subject.key] for record in records) == sorted(keys)
    assert await subject.connector.fetch(subject.entity, subject.key, [subject.probe.unknown_key]) == []


async def test_an_empty_key_list_returns_nothing_without_asking_the_source(subject: Subject) -> None:
    before = subject.calls()
    assert await subject.connector.fetch(subject.entity, subject.key, []) == []
    assert subject.calls() == before


async def test_more_keys_than_one_call_takes_are_split_into_calls_and_all_answered(
    subject: Subject,
) -> None:
    known = subject.reference.keys()
    filler = 2 * subject.batch - len(known) % subject.batch + 1
    numeric = isinstance(known[0], int)
    unknown = [-n - 1 if numeric else f"NOKEY{n:08d}" for n in range(filler)]
    keys = known + unknown
    before = subject.calls()
    records = await subject.connector.fetch(subject.entity, subject.key, keys)
    assert subject.calls() - before == math.ceil(len(keys) / subject.batch)
    assert_same_records(subject, by_key(records, subject.key), subject.reference.rows())


async def test_fetching_by_another_field_returns_every_record_with_those_values(
    subject: Subject,
) -> None:
    field = subject.probe.other
    values = sorted({row[field] for row in subject.reference.rows()})[:3]
    expected = subject.reference.rows(f"{subject.reference.column(field)} IN (?, ?, ?)", values)
    assert len(values) == 3
    if subject.kind == "graphql":
        assert not subject.connector.supports(subject.entity, field, "in")
        with pytest.raises(UnsupportedQuery):
            await subject.connector.fetch(subject.entity, field, values)
        return
    records = await subject.connector.fetch(subject.entity, field, values)
    assert_same_records(subject, by_key(records, subject.key), expected)


@pytest.mark.parametrize("op", OPS)
async def test_select_with_each_operator_returns_the_rows_a_direct_query_returns(
    subject: Subject, op: Op
) -> None:
    condition, sql, params = condition_for(subject, op)
    page = Page(order_by=subject.key, limit=1000)
    if not subject.connector.supports(subject.entity, condition.field, op):
        assert subject.kind == "graphql"
        with pytest.raises(UnsupportedQuery):
            await subject.connector.select(subject.entity, [condition], page)
        return
    expected = subject.reference.rows(sql, params)
    assert 0 < len(expected) < len(subject.reference.rows())
    where = [*key_lookup(subject), condition]
    assert_same_records(subject, await subject.connector.select(subject.entity, where, page), expected)
    first = await subject.connector.select(subject.entity, where, Page(order_by=subject.key, limit=3))
    assert_same_records(subject, first, expected[:3])


async def test_select_combines_conditions_so_that_every_one_holds(subject: Subject) -> None:
    parts = [condition_for(subject, op) for op in ("prefix", "gte")]
    conditions = [condition for condition, _, _ in parts]
    page = Page(order_by=subject.key, limit=1000)
    if subject.kind == "graphql":
        with pytest.raises(UnsupportedQuery):
            await subject.connector.select(subject.entity, conditions, page)
        return
    where = " AND ".join(sql for _, sql, _ in parts)
    expected = subject.reference.rows(where, [param for _, _, params in parts for param in params])
    assert expected
    assert_same_records(subject, await subject.connector.select(subject.entity, conditions, page), expected)


async def test_keyset_pagination_walks_every_matching_row_exactly_once(subject: Subject) -> None:
    if subject.kind == "graphql":
        keys = sample_keys(subject, 23)
        where = [Condition(subject.key, "in", keys)]
        expected = [row for row in subject.reference.rows() if row[subject.key] in keys]
    else:
        condition, sql, params = condition_for(subject, "gte")
        where, expected = [condition], subject.reference.rows(sql, params)
    size = max(2, len(expected) // 4)  # several pages, whatever the demo's row count
    walked: list[Record] = []
    after = None
    while True:
        page = await subject.connector.select(subject.entity, where, Page(subject.key, size, after))
        walked.extend(page)
        if len(page) < size:
            break
        after = page[-1][subject.key]
    assert len(expected) > 2 * size
    assert_same_records(subject, walked, expected)


async def test_a_page_larger_than_one_source_call_returns_holds_every_row_up_to_the_limit(
    subject: Subject,
) -> None:
    page = Page(order_by=subject.key, limit=1001)  # the demo REST API returns 1000 rows at most
    if subject.kind == "graphql":
        with pytest.raises(UnsupportedQuery):
            await subject.connector.select(subject.entity, [], page)
        return
    everything = subject.reference.rows()
    assert len(everything) > subject.batch or subject.kind != "rest"
    assert_same_records(subject, await subject.connector.select(subject.entity, [], page), everything[:1001])


async def test_an_in_condition_with_no_values_matches_nothing_without_asking_the_source(
    subject: Subject,
) -> None:
    before = subject.calls()
    where = [Condition(subject.key, "in", [])]
    assert await subject.connector.select(subject.entity, where, Page(subject.key, 10)) == []
    assert subject.calls() == before


async def test_a_key_lookup_through_select_is_answered_by_every_kind(subject: Subject) -> None:
    key = sample_keys(subject, 1)[0]
    page = Page(order_by=subject.key, limit=10)
    assert subject.connector.supports(subject.entity, subject.key, "eq")
    records = await subject.connector.select(subject.entity, [Condition(subject.key, "eq", key)], page)
    assert_same_records(
        subject, records, [row for row in subject.reference.rows() if row[subject.key] == key]
    )


async def test_a_field_or_entity_not_in_the_binding_is_an_unsupported_query(subject: Subject) -> None:
    connector, entity, page = subject.connector, subject.entity, Page(order_by=subject.key, limit=5)
    before = subject.calls()
    attempts = [
        connector.fetch(entity, "shoe_size", ["42"]),
        connector.fetch("spaceship", subject.key, ["42"]),
        connector.select(entity, [Condition("shoe_size", "eq", "42")], page),
        connector.select(entity, [], Page(order_by="shoe_size", limit=5)),
    ]
    for attempt in attempts:
        with pytest.raises(UnsupportedQuery) as raised:
            await attempt
        assert raised.value.side == "hub" and raised.value.department == subject.probe.department
    assert subject.calls() == before
    assert not connector.supports(entity, "shoe_size", "eq")
    assert not connector.supports("spaceship", subject.key, "eq")


async def test_prefix_wildcards_match_themselves_not_any_text(subject: Subject) -> None:
    field = subject.probe.prefix
    page = Page(order_by=subject.key, limit=5)
    assert subject.connector.supports(subject.entity, field, "prefix")
    for wildcard in ("%", "_", "1_", "\\", "'", "1' OR '1'='1"[:6]):
        where = [*key_lookup(subject), Condition(field, "prefix", wildcard)]
        assert await subject.connector.select(subject.entity, where, page) == []


async def test_records_are_json_ready(subject: Subject) -> None:
    records = await subject.connector.fetch(subject.entity, subject.key, sample_keys(subject, 20))
    assert records
    assert all(isinstance(value, JSON_TYPES) for record in records for value in record.values())
    assert orjson.loads(orjson.dumps(records)) == records


def test_the_connector_describes_its_department_and_entities(subject: Subject) -> None:
    connector = subject.connector
    assert isinstance(connector, Connector)
    assert connector.name == connector.department == subject.probe.department
    assert isinstance(connector.timeout, float) and isinstance(connector.cache_ttl, float)
    assert subject.entity in connector.entities()
    assert connector.key_of(subject.entity) == subject.reference.key


async def test_a_source_that_is_down_is_a_provider_failure(subject: Subject) -> None:
    connector = subject.down()
    try:
        with pytest.raises(SourceError) as raised:
            await connector.fetch(subject.entity, subject.key, sample_keys(subject, 2))
    finally:
        await connector.aclose()
    error = raised.value
    assert (error.side, error.department) == ("provider", subject.probe.department)
    assert_reason_is_short_and_discreet(error.reason)
    if subject.kind != "sqlite":  # SQLite has no server to refuse: a missing file is its "down"
        assert error.reason == "connection refused"


async def test_a_source_slower_than_the_timeout_is_a_provider_failure_naming_the_timeout(
    subject: Subject,
) -> None:
    async with subject.slow() as (connector, entity, key):
        started = time.monotonic()
        with pytest.raises(SourceError) as raised:
            await connector.fetch(entity, connector.key_of(entity), [key])
        elapsed = time.monotonic() - started
    assert raised.value.side == "provider"
    assert raised.value.reason == f"timed out after {connector.timeout} s"
    assert elapsed < connector.timeout + 0.5


def assert_reason_is_short_and_discreet(reason: str) -> None:
    assert 0 < len(reason) <= 200
    for leak in ("SELECT", "select ", "WHERE", "/tmp", "sqlite", ".py"):
        assert leak not in reason


async def test_a_page_naming_its_fields_answers_them_as_the_whole_record_does(subject: Subject) -> None:
    """A page's ``fields`` may narrow what a source reads (SQL selects their columns), never what
    those fields hold; a kind that cannot narrow answers whole records."""
    where = key_lookup(subject)
    whole = await subject.connector.select(subject.entity, where, Page(order_by=subject.key, limit=20))
    fields = frozenset({subject.key, subject.probe.eq})
    narrowed = await subject.connector.select(
        subject.entity, where, Page(order_by=subject.key, limit=20, fields=fields))
    assert whole
    assert_same_records(subject, [{f: r[f] for f in fields} for r in narrowed],
                        [{f: r[f] for f in fields} for r in whole])
    if subject.kind in ("sqlite", "postgres", "mariadb"):
        assert all(set(record) == fields for record in narrowed)
