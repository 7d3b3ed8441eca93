"""``EntityLoader.load_then``: a list's look-ups on the compiled path take their answers by a call.

The callers of a key not answered yet are called in the dispatch, the batch's keys in the order they
were asked and a key's callers in the order they asked; an answered key comes back at once; a failed
batch reaches every caller with its error; a caller that raises is reported as the loop reports a
done-callback that raised, and the others are still called.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hub.data.loaders import EntityLoader


class FakeSources:
    def __init__(self, *, fail: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.fail = fail

    async def fetch(self, connector: str, entity: str, field: str, keys: list[str]) -> dict[str, list[dict[str, Any]]]:
        self.calls.append(list(keys))
        await asyncio.sleep(0)
        if self.fail:
            raise RuntimeError("the department failed")
        return {k: [{"uscc": k}] for k in keys if k != "absent"}


def _loader(sources: FakeSources) -> EntityLoader:
    return EntityLoader(sources, "market", "enterprise", "uscc")  # type: ignore[arg-type]


async def _settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def test_waiting_callers_are_called_in_the_order_the_keys_and_callers_asked() -> None:
    sources = FakeSources()
    loader = _loader(sources)
    heard: list[tuple[str, Any]] = []

    def then(name: str) -> Any:
        return lambda future: heard.append((name, future.result()))

    assert loader.load_then("b", then("b1")) is None
    assert loader.load_then("a", then("a1")) is None
    assert loader.load_then("b", then("b2")) is None
    assert loader.load_then("absent", then("absent")) is None
    assert heard == []
    await _settle()
    assert sources.calls == [["b", "a", "absent"]]
    assert heard == [("b1", [{"uscc": "b"}]), ("b2", [{"uscc": "b"}]), ("a1", [{"uscc": "a"}]), ("absent", [])]
    # Answered now: the future comes back, nothing is called, nothing fetched again.
    future = loader.load_then("a", then("again"))
    assert future is not None and future.result() == [{"uscc": "a"}]
    await _settle()
    assert sources.calls == [["b", "a", "absent"]]
    assert [name for name, _ in heard].count("again") == 0


async def test_a_primed_key_comes_back_answered() -> None:
    sources = FakeSources()
    loader = _loader(sources)
    loader.prime([{"uscc": "p"}])
    future = loader.load_then("p", lambda f: pytest.fail("called for an answered key"))
    assert future is not None and future.result() == [{"uscc": "p"}]
    await _settle()
    assert sources.calls == []


async def test_a_key_awaited_and_taken_by_a_call_is_fetched_once_for_both() -> None:
    sources = FakeSources()
    loader = _loader(sources)
    heard: list[Any] = []
    awaited = loader.load("k")
    assert loader.load_then("k", lambda f: heard.append(f.result())) is None
    assert await awaited == [{"uscc": "k"}]
    await _settle()
    assert heard == [[{"uscc": "k"}]]
    assert sources.calls == [["k"]]


async def test_a_failed_batch_reaches_every_caller_with_its_error() -> None:
    loader = _loader(FakeSources(fail=True))
    heard: list[BaseException | None] = []
    loader.load_then("a", lambda f: heard.append(f.exception()))
    loader.load_then("b", lambda f: heard.append(f.exception()))
    await _settle()
    assert [type(e) for e in heard] == [RuntimeError, RuntimeError]


async def test_prefetched_keys_reach_their_callers_also_when_the_batch_fails() -> None:
    loader = _loader(FakeSources(fail=True))
    loader.prefetch("a")
    loader.prefetch("b")
    heard: list[str] = []
    loader.load_then("a", lambda f: heard.append(f"a {type(f.exception()).__name__}"))
    loader.load_then("b", lambda f: heard.append(f"b {type(f.exception()).__name__}"))
    await _settle()
    assert heard == ["a RuntimeError", "b RuntimeError"]


async def test_a_caller_that_raises_is_reported_and_the_others_are_still_called() -> None:
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:
        loader = _loader(FakeSources())
        heard: list[str] = []

        def broken(future: Any) -> None:
            raise ValueError("broken")

        loader.load_then("a", broken)
        loader.load_then("a", lambda f: heard.append("a"))
        loader.load_then("b", lambda f: heard.append("b"))
        await _settle()
    finally:
        loop.set_exception_handler(None)
    assert heard == ["a", "b"]
    assert [type(c["exception"]) for c in reported] == [ValueError]


async def test_a_cancelled_dispatch_calls_nobody() -> None:
    loader = _loader(FakeSources())
    heard: list[str] = []
    loader.load_then("a", lambda f: heard.append("a"))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    loader.cancel()
    await _settle()
    assert heard == []
