"""The bench's child processes: each started with ``sys.executable`` on a free port, all stopped at the end.

Children get the bench's environment without ``HUB_*`` variables (a developer's ``HUB_CONFIG`` must
not change what is measured) and write their output to a log file in the run's directory, whose
tail is printed when a child dies or does not come up.
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
START_TIMEOUT = 90.0  # seven processes start at once on a shared 2-core machine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Child:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

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
        args = [a.replace("{port}", str(port)) for a in args]
        log = self.log_dir / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [program, *args], cwd=ROOT, env=child_env, stdout=out, stderr=subprocess.STDOUT
            )
        child = Child(name, port, process, log)
        self.children.append(child)
        return child

    def wait_healthy(self, child: Child) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if child.process.poll() is not None:
                raise RuntimeError(f"{child.name} exited with {child.process.returncode}:\n{child.tail()}")
            try:
                if httpx.get(child.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{child.name} did not answer /healthz within {START_TIMEOUT} s:\n{child.tail()}")

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
