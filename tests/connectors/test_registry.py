"""``build_connector`` picks the connector by kind and lets settings override the binding."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

import connectors
from connectors.values import ValueMapped
from connectors import (
    BindingError,
    Connector,
    GraphQLConnector,
    RestConnector,
    SqlConnector,
    build_connector,
    load_bindings,
)

DEPARTMENTS = Path(__file__).parents[2] / "connectors" / "departments"
KINDS = {"sql": SqlConnector, "rest": RestConnector, "graphql": GraphQLConnector}


async def test_every_shipped_binding_builds_the_connector_of_its_kind(tmp_path: Path) -> None:
    for name, binding in load_bindings(DEPARTMENTS).items():
        url = binding.source.url.replace("{demo_data}", str(tmp_path))
        connector = build_connector(binding, url=url)
        try:
            bare = connector.inner if isinstance(connector, ValueMapped) else connector
            assert type(bare) is KINDS[binding.source.kind]
            # Departments that record states in their own words get them mapped to the graph's.
            assert isinstance(connector, ValueMapped) == any(e.values for e in binding.entities.values())
            assert isinstance(connector, Connector)
            assert (connector.name, connector.department) == (name, name)
            assert connector.timeout == binding.source.timeout
            assert connector.cache_ttl == binding.source.cache_ttl
            assert list(connector.entities()) == list(binding.entities)
        finally:
            await connector.aclose()


async def test_settings_override_the_timeout_and_cache_ttl_as_floats() -> None:
    binding = load_bindings(DEPARTMENTS)["ecology"]
    connector = build_connector(binding, timeout=5, cache_ttl=0)
    try:
        assert (connector.timeout, connector.cache_ttl) == (5.0, 0.0)
        assert isinstance(connector.timeout, float) and isinstance(connector.cache_ttl, float)
    finally:
        await connector.aclose()


def test_a_url_whose_demo_data_placeholder_was_not_filled_in_is_refused() -> None:
    binding = load_bindings(DEPARTMENTS)["market"]
    with pytest.raises(BindingError, match=r"market\.toml: source url still contains \{demo_data\}"):
        build_connector(binding)


def test_an_http_transport_for_a_sql_source_is_a_mistake_said_out_loud() -> None:
    binding = load_bindings(DEPARTMENTS)["housing"]
    with pytest.raises(ValueError, match="housing: an HTTP transport does not apply to a SQL source"):
        build_connector(binding, url="sqlite+aiosqlite:///h.sqlite", transport=httpx.AsyncHTTPTransport())


def test_a_connector_class_refuses_a_binding_of_another_kind() -> None:
    bindings = load_bindings(DEPARTMENTS)
    with pytest.raises(BindingError, match="kind 'graphql' is not 'rest'"):
        RestConnector(bindings["security"])
    with pytest.raises(BindingError, match="kind 'rest' is not 'sql'"):
        SqlConnector(bindings["ecology"])


def test_the_package_exports_exactly_its_public_names() -> None:
    public = {
        name
        for name, value in vars(connectors).items()
        if not name.startswith("_") and name != "annotations" and not isinstance(value, type(connectors))
    }
    assert public == set(connectors.__all__)
    assert all(
        getattr(connectors, name).__module__.startswith("connectors.") for name in ("Binding", "SqlConnector")
    )
