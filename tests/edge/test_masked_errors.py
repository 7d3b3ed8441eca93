"""An internal failure shows the client only a request id; the log has the traceback under that id."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import pytest

from tests.edge.conftest import EdgeHub

SECRET = "SELECT secret FROM registration WHERE /work/main/hub/market.py"
LEAKS = ("Traceback", "SELECT", "secret", "/work", ".py", "RuntimeError", "KeyError")
REQUEST_ID = "edge-test-0123456789"


def _logged_under(caplog: pytest.LogCaptureFixture, request_id: str) -> logging.LogRecord:
    records = [r for r in caplog.records if request_id in r.getMessage() and r.exc_info]
    assert records, [r.getMessage() for r in caplog.records]
    return records[0]


async def test_a_connector_raising_an_unexpected_exception_is_masked_and_logged_with_the_request_id(
    edge_hub: EdgeHub, some_uscc: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(entity: str, field: str, keys: Sequence[Any]) -> list[dict[str, Any]]:
        raise RuntimeError(SECRET)

    async with edge_hub() as hub:
        monkeypatch.setattr(hub.hub.sources.connectors["market"], "fetch", broken)
        with caplog.at_level(logging.ERROR):
            result = await hub.query(
                "query($u: String!) { enterprise(uscc: $u) { name } }", {"u": some_uscc}, **{"x-request-id": REQUEST_ID}
            )
        [error] = result["errors"]
        assert error["extensions"] == {
            "code": "SOURCE_UNAVAILABLE", "department": "market", "failedSide": "hub", "requestId": REQUEST_ID,
        }
        assert not any(leak in str(result) for leak in LEAKS), result
        record = _logged_under(caplog, REQUEST_ID)
        assert record.exc_info is not None and SECRET in str(record.exc_info[1])
        assert "RuntimeError" in caplog.text and "Traceback" in caplog.text


async def test_a_bug_while_resolving_shows_only_the_request_id(
    edge_hub: EdgeHub, some_uscc: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def malformed(entity: str, field: str, keys: Sequence[Any]) -> list[dict[str, Any]]:
        return [{field: key} for key in keys]  # records missing every other column: a hub bug to resolve

    async with edge_hub() as hub:
        monkeypatch.setattr(hub.hub.sources.connectors["market"], "fetch", malformed)
        with caplog.at_level(logging.ERROR):
            result = await hub.query(
                "query($u: String!) { enterprise(uscc: $u) { name } }", {"u": some_uscc}, **{"x-request-id": REQUEST_ID}
            )
        [error] = result["errors"]
        assert error["message"] == f"Internal server error (request {REQUEST_ID})"
        assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": REQUEST_ID}
        assert not any(leak in str(result) for leak in LEAKS), result
        record = _logged_under(caplog, REQUEST_ID)
        assert record.exc_info is not None
        assert "Traceback" in caplog.text
