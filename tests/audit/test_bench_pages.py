"""The audit bench's page count (``python -m bench audit --pages G``) and ``bench.profile``'s
``--concurrency`` and ``--alternate``: bad values are refused before anything runs, a real count is one,
and the on/off switch records only when on."""

from __future__ import annotations

import json

import pytest

from bench import audit_store, profile


@pytest.mark.parametrize("argv", [["--pages", "0"], ["--pages", "4", "65"], ["--pages", "x"], ["--pages"]])
def test_a_group_size_outside_1_to_64_is_refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        audit_store.main(argv)
    assert exit_.value.code == 2
    assert "--pages" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_a_concurrency_below_one_is_refused(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        profile.main(["B", "--concurrency", value])
    assert exit_.value.code == 2
    assert "--concurrency" in capsys.readouterr().err


def test_the_page_count_appends_groups_and_counts_their_pages(capsys: pytest.CaptureFixture[str]) -> None:
    assert audit_store.main(["--pages", "1", "4"]) == 0
    counted = json.loads(capsys.readouterr().out)
    assert [c["group"] for c in counted] == [1, 4]
    assert [c["groups"] for c in counted] == [64, 48]
    # A record writes its row, its indexes, the head and the usage count: several pages, fewer per
    # record in a larger group (the head's and usage's pages are shared).
    assert all(c["wal_pages_per_group"] >= 3 for c in counted), counted
    assert counted[1]["wal_pages_per_record"] < counted[0]["wal_pages_per_record"], counted


@pytest.mark.parametrize("argv", [["--alternate", "0"], ["--alternate", "-2"], ["--alternate", "x"],
                                  ["--alternate", "4", "--no-audit"], ["--alternate", "4", "--profile", "cprofile"]])
def test_alternating_rounds_need_a_count_and_the_audit(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        profile.main(["B", "--concurrency", "8", *argv])
    assert exit_.value.code == 2
    assert "--alternate" in capsys.readouterr().err


async def test_the_audit_switch_records_through_the_hub_recorder_only_when_on() -> None:
    from hub.audit.subjects import Disclosed
    from hub.context import Caller

    recorded: list[str] = []

    class Recorder:
        store = object()

        async def record(self, request_id: str, *args: object) -> int:
            recorded.append(request_id)
            return len(recorded)

    switch = profile.AuditSwitch(Recorder())  # type: ignore[arg-type]
    caller, shown = Caller(client_id="c"), Disclosed()
    assert await switch.record("r1", caller, "{ a }", None, shown) == 1
    switch.on = False
    assert await switch.record("r2", caller, "{ a }", None, shown) == 0
    switch.on = True
    assert await switch.record("r3", caller, "{ a }", None, shown) == 2
    assert recorded == ["r1", "r3"]
