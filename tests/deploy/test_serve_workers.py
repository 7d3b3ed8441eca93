"""``hub serve --workers N``: N processes on one port from the same settings, refused without the
replay cache they must share."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

HUB = [sys.executable, "-m", "hub.cli", "serve"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _development(tmp_path: Path, demo_data_dir: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    return {**env, "HUB_ENV": "development", "HUB_STATE_DIR": str(tmp_path), "HUB_DEMO_DATA": str(demo_data_dir),
            **more}


def _workers_of(pid: int) -> list[int]:
    """The worker processes uvicorn spawned under ``pid`` (not multiprocessing's resource tracker)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
            if b"spawn_main" in cmdline:
                found.append(int(child))
    return found


@pytest.mark.parametrize("more", [{}, {"HUB_SINGLE_PROCESS": "true", "HUB_REPLAY_CACHE_URL": "redis://127.0.0.1:1/0"}])
def test_several_workers_without_a_shared_replay_cache_are_refused(
    tmp_path: Path, demo_data_dir: Path, more: dict[str, str],
) -> None:
    refused = subprocess.run([*HUB, "--workers", "2", "--port", str(_free_port())], capture_output=True, text=True,
                             env=_development(tmp_path, demo_data_dir, **more), timeout=60, check=False)
    assert refused.returncode == 2, refused.stderr
    assert "HUB_REPLAY_CACHE_URL=redis://" in refused.stderr and "share the DPoP replay cache" in refused.stderr


def test_workers_must_be_one_or_more(tmp_path: Path, demo_data_dir: Path) -> None:
    refused = subprocess.run([*HUB, "--workers", "0"], capture_output=True, text=True,
                             env=_development(tmp_path, demo_data_dir), timeout=60, check=False)
    assert refused.returncode == 2 and "--workers must be 1 or more" in refused.stderr


@pytest.mark.slow
def test_two_workers_serve_one_port_from_the_same_settings(
    tmp_path: Path, demo_data_dir: Path, redis_url: str, redis_prefix: str,
) -> None:
    port = _free_port()
    env = _development(
        tmp_path, demo_data_dir, HUB_REPLAY_CACHE_URL=redis_url, HUB_REPLAY_CACHE_PREFIX=redis_prefix + "replay:",
        HUB_FAIR_USE_PREFIX=redis_prefix + "fair:", HUB_SOURCE_HEALTH_PREFIX=redis_prefix + "health:",
        HUB_ANONYMOUS_ACCESS="true",  # development's demo caller: what is served, not who asks, is tested
    )
    server = subprocess.Popen([*HUB, "--workers", "2", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        deadline, workers = time.monotonic() + 90, []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            while time.monotonic() < deadline and server.poll() is None:
                try:
                    if http.get("/healthz").status_code == 200 and len(workers := _workers_of(server.pid)) == 2:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.3)
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            assert len(workers) == 2, workers
            for _ in range(6):  # fresh connections: both workers take their share
                answer = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": "{ __typename }"}, timeout=10)
                assert answer.status_code == 200 and answer.json() == {"data": {"__typename": "Query"}}
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
