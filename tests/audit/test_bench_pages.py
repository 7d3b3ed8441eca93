"""The audit bench's page count (``python -m bench audit --pages G``) and ``bench.profile``'s
``--concurrency``: bad values are refused before anything runs, and a real count is one."""

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
