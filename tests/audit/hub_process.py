"""A hub replica as its own OS process: ``python -m hub.cli serve --config FILE --port PORT``.

Each replica gets a free port, writes its output to a log file (a pipe nobody reads would fill
and stall it), and is stopped with SIGTERM, then SIGKILL if it lingers. ``hub_cli`` runs any other
``hub`` command the way an operator would, against the same settings file.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

PROJECT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def write_settings(path: Path, settings: dict[str, Any]) -> Path:
    """A TOML settings file: top-level values, then one table per mapping (``[sources.ecology]``)."""

    def value(item: Any) -> str:
        if isinstance(item, bool):
            return "true" if item else "false"
        return json.dumps(str(item) if isinstance(item, Path) else item)  # a JSON string is a TOML one

    lines: list[str] = []
    tables: list[str] = []
    for key, item in settings.items():
        if isinstance(item, dict):
            for name, table in item.items():
                tables.append(f"[{key}.{name}]")
                tables.extend(f"{k} = {value(v)}" for k, v in table.items())
        else:
            lines.append(f"{key} = {value(item)}")
    path.write_text("\n".join(lines + tables) + "\n", encoding="utf-8")
    return path


def _environment() -> dict[str, str]:
    """This environment without any HUB_* setting: the settings file alone configures the hub."""
    return {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}


def hub_cli(config: Path, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "hub.cli", *argv[:1], "--config", str(config), *argv[1:]]
    return subprocess.run(
        command, cwd=PROJECT, env=_environment(), capture_output=True, text=True, timeout=timeout, check=False
    )


@dataclass
class HubProcess:
    name: str
    port: int
    log: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"hub {self.name} exited with {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"hub {self.name} did not answer /healthz within {timeout} s:\n{self.output()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def start_hub(name: str, config: Path, log_dir: Path) -> HubProcess:
    port = free_port()
    log = log_dir / f"hub-{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "serve", "--config", str(config), "--port", str(port)],
            cwd=PROJECT, env=_environment(), stdout=out, stderr=subprocess.STDOUT,
        )
    return HubProcess(name, port, log, process)


@contextmanager
def running(names: tuple[str, ...], config: Path, log_dir: Path) -> Iterator[list[HubProcess]]:
    """Replicas started together and answering; stopped, their ports free, however the block ends."""
    hubs: list[HubProcess] = []
    try:
        for name in names:
            hubs.append(start_hub(name, config, log_dir))
        for hub in hubs:
            hub.wait_ready()
        yield hubs
    finally:
        for hub in hubs:
            hub.stop()
    held = [hub.port for hub in hubs if not port_is_free(hub.port)]
    assert not held, f"stopped replicas still hold ports {held}"
