"""Bad identifiers and arguments get BAD_USER_INPUT saying what is wrong; nothing leaks."""

from __future__ import annotations

import base64

import pytest

from tests.graph.conftest import HubClient

LEAKS = ("Traceback", "SELECT", "sqlite", "/work", ".py", "sqlalchemy")


def assert_bad_input(result: dict, *words: str) -> None:
    errors = result["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"], errors
    message = errors[0]["message"]
    for word in words:
        assert word in message, message
    assert not any(leak in str(result) for leak in LEAKS), result


@pytest.mark.parametrize(
    ("uscc", "words"),
    [
        ("91110000600037341N", ["check character", "'L'"]),
        ("9111000060003IOZSV", ["alphabet"]),
        ("9111000060003734", ["18 characters"]),
        ("' OR 1=1 --", ["18 characters"]),
    ],
)
async def test_bad_uscc_is_rejected_with_the_reason(hub: HubClient, uscc: str, words: list[str]) -> None:
    result = await hub.query("query($u: String!) { enterprise(uscc: $u) { name } }", {"u": uscc})
    assert result["data"] == {"enterprise": None}
    assert_bad_input(result, *words)


@pytest.mark.parametrize(
    ("id_number", "words"),
    [
        ("36042619910102009X", ["check character"]),
        ("360426199113010079", ["birth date"]),
        ("3604261991010100", ["18 characters"]),
    ],
)
async def test_bad_id_number_is_rejected_with_the_reason(hub: HubClient, id_number: str, words: list[str]) -> None:
    result = await hub.query("query($i: String!) { person(idNumber: $i) { name } }", {"i": id_number})
    assert_bad_input(result, *words)


@pytest.mark.parametrize("region", ["1302", "990000", "130299", "13020X"])
async def test_bad_division_code_is_rejected(hub: HubClient, region: str) -> None:
    result = await hub.query("query($r: String!) { licences(region: $r) { edges { cursor } } }", {"r": region})
    assert_bad_input(result, "division code")


@pytest.mark.parametrize("number", ["JY1234", "X" * 500, "91130200699229617X001Q", "130203202613450101"])
async def test_bad_licence_number_is_rejected(hub: HubClient, number: str) -> None:
    result = await hub.query("query($n: String!) { licence(number: $n) { number } }", {"n": number})
    assert_bad_input(result, "licence number")


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ("first: 0", ["first"]),
        ("first: 100000", ["first"]),
        ('after: "not-a-cursor"', ["cursor"]),
        ("expiringWithinDays: -1", ["expiringWithinDays"]),
    ],
)
async def test_bad_connection_arguments_are_rejected(hub: HubClient, arguments: str, words: list[str]) -> None:
    result = await hub.query(f"{{ licences({arguments}) {{ edges {{ cursor }} }} }}")
    assert_bad_input(result, *words)


async def test_wrongly_typed_argument_is_a_validation_error(hub: HubClient) -> None:
    result = await hub.query("{ enterprise(uscc: 42) { name } }")
    assert result["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "data" not in result


async def test_wrongly_typed_variable_is_bad_user_input(hub: HubClient) -> None:
    result = await hub.query("query($u: String!) { enterprise(uscc: $u) { name } }", {"u": {"$ne": 1}})
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "data" not in result


async def test_malformed_requests_get_4xx_with_a_message(hub: HubClient) -> None:
    cases = [
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400),
        ({"content": b"[]", "headers": {"content-type": "application/json"}}, 400),
        ({"content": b'{"query": 1}', "headers": {"content-type": "application/json"}}, 400),
        ({"content": b'{"query": "{ __typename }"}', "headers": {"content-type": "text/plain"}}, 415),
        ({"content": b"x" * 1_000_001, "headers": {"content-type": "application/json"}}, 413),
    ]
    for kwargs, status in cases:
        response = await hub.http.post("/graphql", **kwargs)
        assert response.status_code == status, (kwargs["content"][:30], response.text)
        assert response.json()["errors"][0]["message"]


async def test_graphql_response_media_type_gets_400_for_invalid_documents(hub: HubClient) -> None:
    response = await hub.http.post(
        "/graphql", json={"query": "{ nope }"}, headers={"accept": "application/graphql-response+json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/graphql-response+json")
    assert "data" not in response.json()


BEYOND_64_BITS = [2**63, -(2**63) - 1, 2**64, 10**30]


@pytest.mark.parametrize("number", BEYOND_64_BITS)
@pytest.mark.parametrize("connection", ["licences", "enterprises", "cases"])
async def test_a_cursor_holding_a_number_no_database_integer_holds_is_bad_input(
    hub: HubClient, connection: str, number: int
) -> None:
    """A cursor is the graph's own JSON; one made by hand with an integer past 64 bits would reach a
    SQLite statement's parameter (``OverflowError``) or the server's: it is refused first."""
    cursor = base64.urlsafe_b64encode(b"c1:" + str(number).encode()).decode().rstrip("=")
    result = await hub.query(f"query($a: String) {{ {connection}(after: $a) {{ edges {{ cursor }} }} }}", {"a": cursor})
    assert_bad_input(result, "cursor")


@pytest.mark.parametrize("raw", [b"true", b"false"])
@pytest.mark.parametrize("connection", ["licences", "enterprises", "cases"])
async def test_a_cursor_holding_a_boolean_is_bad_input(hub: HubClient, connection: str, raw: bytes) -> None:
    """A boolean is an ``int`` to Python, but never a page's order value: from a SQLite file it read
    the first page as if there were no cursor, and the engine (PostgreSQL, MariaDB) refuses ``> true``."""
    cursor = base64.urlsafe_b64encode(b"c1:" + raw).decode().rstrip("=")
    result = await hub.query(f"query($a: String) {{ {connection}(after: $a) {{ edges {{ cursor }} }} }}", {"a": cursor})
    assert_bad_input(result, "cursor")


@pytest.mark.parametrize("number", BEYOND_64_BITS)
@pytest.mark.parametrize("argument", ["first", "expiringWithinDays"])
async def test_an_int_argument_past_32_bits_is_bad_input(hub: HubClient, argument: str, number: int) -> None:
    result = await hub.query(f"query($n: Int) {{ licences({argument}: $n) {{ edges {{ cursor }} }} }}", {"n": number})
    assert [e["extensions"]["code"] for e in result["errors"]] == ["BAD_USER_INPUT"], result
    assert "data" not in result


# Characters ``str.isdigit`` takes for digits that are not ASCII: superscripts, which ``int`` refuses,
# and full-width digits, which ``int`` reads (a check character then works out, and the number would
# be looked up and recorded as given).
NOT_ASCII_DIGITS = [
    ("11010119900307²²²X", "person(idNumber: $v) { name }"),
    ("1101011990030712３3", "person(idNumber: $v) { name }"),
    ("JY²1234567890123", "licence(number: $v) { number }"),
    ("JY" + "１" * 13 + "3", "licence(number: $v) { number }"),  # its check digit right
    ("91110000600037341L１１１P", "licence(number: $v) { number }"),
    ("13020320260101０１０１", "licence(number: $v) { number }"),
]


@pytest.mark.parametrize(("value", "field"), NOT_ASCII_DIGITS)
async def test_an_identifier_with_digits_that_are_not_ascii_is_bad_input(
    hub: HubClient, value: str, field: str
) -> None:
    result = await hub.query(f"query($v: String!) {{ {field} }}", {"v": value})
    assert_bad_input(result)
