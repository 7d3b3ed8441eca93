"""What the bench reads of a target's processes: its whole tree's CPU time, and how many workers serve it."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

import pytest

from bench.processes import process_tree, tree_cpu_seconds
from bench.replicas import workers_arg
from bench.serving import workers

# A parent that starts a child which burns CPU for a while, then both sleep until killed.
PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time\\nend = time.process_time() + 0.6\\n"
                          "while time.process_time() < end: pass\\nprint('done', flush=True)\\ntime.sleep(60)"],
                         stdout=sys.stdout)
print(child.pid, flush=True)
time.sleep(60)
"""


def test_a_grandchilds_cpu_counts_for_the_root() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    child = 0
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        before = tree_cpu_seconds((parent.pid,))
        assert parent.stdout.readline().strip() == "done"  # the child has burnt its 0.6 s
        assert child in process_tree((parent.pid,))
        own = tree_cpu_seconds((child,))
        whole = tree_cpu_seconds((parent.pid,))
        assert own >= 0.5
        assert whole - before >= 0.3  # the child's burn happened mostly after the first reading
        assert whole >= own  # the parent's tree includes the child
    finally:
        if child:
            os.kill(child, signal.SIGKILL)
        parent.kill()
        parent.wait()


def test_a_process_that_is_gone_counts_nothing() -> None:
    done = subprocess.run([sys.executable, "-c", "pass"], check=True)
    assert done.returncode == 0
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    time.sleep(0.05)
    assert tree_cpu_seconds((gone.pid,)) == 0.0
    assert process_tree((gone.pid,)) == [gone.pid]


def test_this_process_is_counted() -> None:
    start = tree_cpu_seconds((os.getpid(),))
    end = time.process_time() + 0.3
    while time.process_time() < end:
        pass
    assert tree_cpu_seconds((os.getpid(),)) - start >= 0.2


@pytest.mark.parametrize("raw", ["0", "-2", "two", "1.5", ""])
def test_workers_must_be_a_whole_number_of_at_least_one(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="at least 1"):
        workers_arg(raw)
    monkeypatch.setenv("BENCH_WORKERS", raw)
    with pytest.raises(SystemExit, match="BENCH_WORKERS must be a whole number of at least 1"):
        workers()


def test_workers_read(monkeypatch: pytest.MonkeyPatch) -> None:
    assert workers_arg("3") == 3
    monkeypatch.delenv("BENCH_WORKERS", raising=False)
    assert workers() == 1  # unset: one process, as before
    monkeypatch.setenv("BENCH_WORKERS", "2")
    assert workers() == 2


def test_the_workers_connections_send_small_answers_at_once() -> None:
    """Every connection a worker accepts has Nagle's algorithm off, as with one process."""
    import asyncio
    import socket

    from bench.serving import listening_socket

    async def accepted_nodelay() -> int:
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        sock = listening_socket(port)
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Report(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                accepted = transport.get_extra_info("socket")
                seen.set_result(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Report, sock=sock)
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            result = await asyncio.wait_for(seen, 10)
            writer.close()
            return result
        finally:
            server.close()

    assert asyncio.run(accepted_nodelay()) == 1
