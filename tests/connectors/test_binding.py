"""Department bindings load strictly: every malformed file names itself and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors import BindingError, load_binding, load_bindings

DEPARTMENTS = Path(__file__).parents[2] / "connectors" / "departments"

SQL = """
department = "market"
title = "Market Regulation"
title_local = "市场监督管理局"

[source]
kind = "sql"
url = "sqlite+aiosqlite:///{demo_data}/market.sqlite"
timeout = 2.0
cache_ttl = 300

[entities.enterprise]
table = "enterprises"
key = "uscc"
[entities.enterprise.fields]
uscc = "uscc"
name = "name"
"""

REST = """
department = "ecology"
title = "Ecology and Environment"
title_local = "生态环境局"

[source]
kind = "rest"
url = "http://127.0.0.1:8101"
timeout = 2
cache_ttl = 300

[entities.discharge_permit]
path = "/api/v1/discharge-permits"
key = "number"
items = "items"
max_keys = 200
[entities.discharge_permit.params]
eq = "{field}"
in = "{field}"
order_by = "order_by"
after = "after"
limit = "limit"
[entities.discharge_permit.fields]
number = "permit_number"
"""

GRAPHQL = """
department = "security"
title = "Public Security"
title_local = "公安局"

[source]
kind = "graphql"
url = "http://127.0.0.1:8102/graphql"
timeout = 2.0
cache_ttl = 600

[entities.identity_record]
query = "persons"
key = "id_number"
key_argument = "idNumbers"
key_type = "[String!]!"
max_keys = 500
[entities.identity_record.fields]
id_number = "idNumber"
address_code = "addressCode"
[entities.identity_record.filters.address_code]
prefix = "addressPrefix"
"""

# (template, text to replace, replacement, what the error must say)
MALFORMED = {
    "missing department": (SQL, 'department = "market"', "", "lacks 'department'"),
    "empty title": (SQL, 'title = "Market Regulation"', 'title = ""', "'title' must be a non-empty string"),
    "missing source": (SQL, "[source]", "[origin]", "unknown key(s) 'origin'"),
    "unknown kind": (SQL, 'kind = "sql"', 'kind = "soap"', "kind 'soap' is unknown"),
    "timeout as text": (SQL, "timeout = 2.0", 'timeout = "2s"', "'timeout' must be a number"),
    "timeout as boolean": (SQL, "timeout = 2.0", "timeout = true", "'timeout' must be a number"),
    "zero timeout": (SQL, "timeout = 2.0", "timeout = 0", "timeout must be greater than 0"),
    "negative cache ttl": (SQL, "cache_ttl = 300", "cache_ttl = -1", "cache_ttl must not be negative"),
    "missing key": (SQL, 'key = "uscc"', "", "[entities.enterprise] lacks 'key'"),
    "key not among fields": (SQL, 'key = "uscc"', 'key = "id"', "key 'id' is not among its fields"),
    "sql entity without table": (SQL, 'table = "enterprises"', "", "lacks 'table'"),
    "misspelt entity key": (SQL, 'table = "enterprises"', 'tabel = "enterprises"', "unknown key(s) 'tabel'"),
    "field mapped to a number": (SQL, 'name = "name"', "name = 7", "'name' must map to a non-empty string"),
    "fields not a table": (
        SQL,
        '[entities.enterprise.fields]\nuscc = "uscc"\nname = "name"',
        'fields = "uscc"',
        "'fields' must be a table",
    ),
    "no entities": (SQL, SQL[SQL.index("[entities") :], "[entities]\n", "[entities] declares no entity"),
    "rest path without slash": (REST, 'path = "/api', 'path = "api', "must start with '/'"),
    "rest without in parameter": (REST, 'in = "{field}"', "", "lacks 'in'"),
    "rest unknown parameter": (REST, 'eq = "{field}"', 'like = "{field}_like"', "unknown key(s) 'like'"),
    "rest max keys zero": (REST, "max_keys = 200", "max_keys = 0", "'max_keys' must be a positive integer"),
    "rest entity with a table": (
        REST,
        'items = "items"',
        'items = "items"\ntable = "x"',
        "unknown key(s) 'table'",
    ),
    "graphql without key argument": (GRAPHQL, 'key_argument = "idNumbers"', "", "lacks 'key_argument'"),
    "graphql max keys as text": (GRAPHQL, "max_keys = 500", 'max_keys = "500"', "must be a positive integer"),
    "invalid toml": (SQL, "[source]", "[source", "is not valid TOML"),
    "graphql filter on a field not bound": (
        GRAPHQL, 'address_code = "addressCode"', 'shoe_size = "shoe"', "filters names 'address_code'"
    ),
    "graphql filter by in": (GRAPHQL, 'prefix = "addressPrefix"', 'in = "codes"', "unknown key(s) 'in'"),
    "graphql filter argument that is not a name": (
        GRAPHQL, 'prefix = "addressPrefix"', 'prefix = "aP) { __typename } #"', "is not a GraphQL name"
    ),
    "graphql filter argument of the key": (
        GRAPHQL, 'prefix = "addressPrefix"', 'prefix = "idNumbers"', "'idNumbers' is already taken"
    ),
    "graphql filter without an argument": (
        GRAPHQL, 'prefix = "addressPrefix"', "", "filters.address_code must be a non-empty table"
    ),
    "graphql filters not a table": (
        GRAPHQL.replace('[entities.identity_record.filters.address_code]\nprefix = "addressPrefix"\n', ""),
        "max_keys = 500", 'max_keys = 500\nfilters = "address_code"', "'filters' must be a table"
    ),
    "rest entity with graphql filters": (
        REST, 'items = "items"', 'items = "items"\nfilters = {}', "unknown key(s) 'filters'"
    ),
}


def write(tmp_path: Path, text: str, name: str = "binding.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_a_malformed_binding_names_the_file_and_the_problem(tmp_path: Path, case: str) -> None:
    template, old, new, problem = MALFORMED[case]
    assert old in template
    path = write(tmp_path, template.replace(old, new, 1))
    with pytest.raises(BindingError) as raised:
        load_binding(path)
    assert str(path) in str(raised.value)
    assert problem in str(raised.value)


@pytest.mark.parametrize("text", [SQL, REST, GRAPHQL], ids=["sql", "rest", "graphql"])
def test_the_well_formed_templates_load(tmp_path: Path, text: str) -> None:
    binding = load_binding(write(tmp_path, text))
    assert binding.file == str(tmp_path / "binding.toml")
    assert all(entity.key in entity.fields for entity in binding.entities.values())


def test_a_missing_file_is_a_binding_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(BindingError, match="nothing.toml: cannot be read"):
        load_binding(tmp_path / "nothing.toml")


def test_two_files_binding_one_department_are_refused(tmp_path: Path) -> None:
    write(tmp_path, SQL, "a.toml")
    second = write(tmp_path, SQL, "b.toml")
    with pytest.raises(BindingError) as raised:
        load_bindings(tmp_path)
    assert raised.value.path == str(second)
    assert "'market' is already bound in" in raised.value.problem


def test_the_six_shipped_bindings_load_with_their_kinds() -> None:
    bindings = load_bindings(DEPARTMENTS)
    kinds = {name: binding.source.kind for name, binding in bindings.items()}
    assert kinds == {
        "market": "sql",
        "housing": "sql",
        "taxation": "sql",
        "centre": "sql",
        "ecology": "rest",
        "security": "graphql",
    }
    assert bindings["housing"].entities["construction_permit"].fields["number"] == "permit_no"
    assert bindings["security"].entities["identity_record"].max_keys == 500
    assert bindings["ecology"].entities["discharge_permit"].params["prefix"] == "{field}_prefix"


def test_settings_override_the_binding_in_a_copy() -> None:
    binding = load_binding(DEPARTMENTS / "market.toml")
    copy = binding.with_source(url="postgresql+asyncpg://db/market", timeout=5, cache_ttl=0)
    assert (copy.source.url, copy.source.timeout, copy.source.cache_ttl) == (
        "postgresql+asyncpg://db/market",
        5.0,
        0.0,
    )
    assert binding.source.url.endswith("{demo_data}/market.sqlite")
    assert copy.with_source().source == copy.source
    assert copy.entities is binding.entities


def test_an_unsubstituted_placeholder_in_the_url_is_refused_when_used() -> None:
    binding = load_binding(DEPARTMENTS / "centre.toml")
    with pytest.raises(BindingError, match=r"centre\.toml: source url still contains \{demo_data\}"):
        binding.resolved_url()
    assert (
        binding.with_source(url="sqlite+aiosqlite:///x.sqlite").resolved_url()
        == "sqlite+aiosqlite:///x.sqlite"
    )


def test_a_binding_cannot_be_changed_in_place() -> None:
    binding = load_binding(DEPARTMENTS / "taxation.toml")
    with pytest.raises(AttributeError):
        binding.department = "market"  # type: ignore[misc]
    with pytest.raises(TypeError):
        binding.entities["tax_registration"].fields["uscc"] = "x"  # type: ignore[index]


def test_a_graphql_binding_declares_the_arguments_its_filters_take(tmp_path: Path) -> None:
    entity = load_binding(write(tmp_path, GRAPHQL)).entities["identity_record"]
    assert dict(entity.filters["address_code"]) == {"prefix": "addressPrefix"}
