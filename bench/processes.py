"""The bench's child processes: each started with ``sys.executable`` on a free port, all stopped at the end.

Children get the bench's environment without ``HUB_*`` variables (a developer's ``HUB_CONFIG`` must
not change what is measured) and write their output to a log file in the run's directory, whose
tail is printed when a child dies or does not come up.

``tree_cpu_seconds`` reads, from ``/proc``, the CPU time a process and every process under it has
used so far (a server's workers are its children): what a target spends is counted whole, however
many processes serve it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 180.0  # up to seven servers of N workers each start at once on a shared 2-core machine
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _stat_fields(pid: int) -> list[str] | None:
    """``/proc/<pid>/stat`` after the command name (field 3 on), or None when the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def process_tree(roots: tuple[int, ...]) -> list[int]:
    """``roots`` and every process descended from them (one scan of ``/proc``)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, pending = [], list(roots)
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending += children.get(pid, [])
    return found


def tree_cpu_seconds(roots: tuple[int, ...]) -> float:
    """User + system CPU seconds used so far by ``roots`` and their descendants (their waited-for
    children's included). Needs ``/proc`` (Linux); elsewhere ``nan``."""
    if not Path("/proc/self/stat").is_file():
        return float("nan")
    ticks = 0
    for pid in process_tree(roots):
        fields = _stat_fields(pid)
        if fields is not None:  # utime, stime, cutime, cstime: fields 14 to 17
            ticks += sum(int(f) for f in fields[11:15])
    return ticks / CLOCK_TICKS


@dataclass
class Child:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    workers: int = 1
    ready: Path | None = None  # where each of several workers reports that it serves

    def all_workers_ready(self) -> bool:
        return self.workers == 1 or (self.ready is not None and len(list(self.ready.iterdir())) >= self.workers)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.is_file() else ""
        return "\n".join(text.splitlines()[-lines:])


class Processes:
    """Every child of one run; ``stop_all`` terminates them and waits (kills after a grace period)."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: list[Child] = []

    def start(self, name: str, args: list[str], env: dict[str, str] | None = None,
              program: str = sys.executable) -> Child:
        port = free_port()
        child_env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        child_env.update(env or {})
        child_env["BENCH_PORT"] = str(port)
        workers = int(child_env.get("BENCH_WORKERS", "1"))
        ready = self.log_dir / f"{name}.ready"
        if workers > 1:  # each worker puts a file here once it serves (bench.serving, tests/peers/workers.mjs)
            ready.mkdir()
            child_env["BENCH_READY_DIR"] = str(ready)
        args = [a.replace("{port}", str(port)) for a in args]
        log = self.log_dir / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [program, *args], cwd=ROOT, env=child_env, stdout=out, stderr=subprocess.STDOUT
            )
        child = Child(name, port, process, log, workers, ready)
        self.children.append(child)
        return child

    def wait_healthy(self, child: Child) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if child.process.poll() is not None:
                raise RuntimeError(f"{child.name} exited with {child.process.returncode}:\n{child.tail()}")
            try:
                if child.all_workers_ready() and httpx.get(child.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{child.name} did not answer /healthz with all its {child.workers} worker(s) started "
                           f"within {START_TIMEOUT} s:\n{child.tail()}")

    def stop_all(self) -> None:
        for child in self.children:
            if child.process.poll() is None:
                child.process.terminate()
        for child in self.children:
            try:
                child.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
        self.children.clear()
