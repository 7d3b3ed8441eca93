"""The image built here with podman (no image registry: its base is made with debootstrap,
docker/podman/base-image.sh) and started: it answers /healthz and its HEALTHCHECK, runs as a
non-root uid on a read-only root filesystem with GraphiQL's files inside, and serves a GraphQL
query with a real token against this machine's PostgreSQL and Redis.

Marked ``container``: run last among the slow tests. On a clean machine the base image takes a few
minutes (debootstrap) and the build about two (pip inside the build); a base made today is reused.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from hub.store.sealing import new_key_encryption_key
from tests.conftest import RUN_ID, postgres_database
from tests.deploy.conftest import free_port
from tests.deploy.topology import register_system

pytestmark = [pytest.mark.slow, pytest.mark.container, pytest.mark.postgres, pytest.mark.redis]

PROJECT = Path(__file__).resolve().parents[2]
PODMAN_DIR = PROJECT / "docker" / "podman"
ISSUER = "https://hub.test"


def podman(*argv: str, timeout: float = 900, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONTAINERS_CONF": str(PODMAN_DIR / "containers.conf")}
    done = subprocess.run(["podman", *argv], env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"podman {' '.join(argv[:2])} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    """The hub's image built from docker/Dockerfile on a local Debian base; its tag removed after."""
    if shutil.which("podman") is None or shutil.which("debootstrap") is None:
        message = "podman and debootstrap are missing (`make test` installs them as root)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    if not (PROJECT / ".demo" / "graphiql").is_dir():
        pytest.fail(".demo/graphiql is missing: `make test` installs GraphiQL's files before the tests")
    env = {**os.environ, "CONTAINERS_CONF": str(PODMAN_DIR / "containers.conf")}
    base = subprocess.run([str(PODMAN_DIR / "base-image.sh")], env=env, capture_output=True, text=True,
                          timeout=1200, check=False)
    assert base.returncode == 0, base.stderr[-3000:]
    tag = f"localhost/service-centre-hub:test-{RUN_ID}"
    podman("build", "--format", "docker", "--network", "host", "-v", "/etc/ssl/certs:/etc/ssl/certs:ro",
           "--build-arg", f"BASE={base.stdout.strip()}",
           "--build-arg", "PIP_CERT=/etc/ssl/certs/ca-certificates.crt",
           "-f", str(PROJECT / "docker" / "Dockerfile"), "-t", tag, str(PROJECT))
    try:
        yield tag
    finally:
        podman("rmi", tag, check=False)


@dataclass
class Container:
    name: str
    url: str
    database_url: str


@pytest.fixture(scope="module")
async def container(image: str, postgres_url: str, redis_url: str, demo_data_dir: Path,
                    tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Container]:
    """The image's `hub migrate`, then `hub serve` as a container on a read-only root filesystem,
    on the host's network (this machine's PostgreSQL and Redis), settings from the environment."""
    async with postgres_database(postgres_url, f"hub_image_{RUN_ID}_{uuid.uuid4().hex[:6]}") as database_url:
        port, name = free_port(), f"hub-test-{RUN_ID}"
        settings = {
            "HUB_DATABASE_URL": database_url, "HUB_KEY_ENCRYPTION_KEY": new_key_encryption_key(),
            "HUB_ISSUER": ISSUER, "HUB_HOST": "127.0.0.1", "HUB_PORT": str(port),
            "HUB_CACHE_URL": redis_url, "HUB_REPLAY_CACHE_URL": redis_url,
            "HUB_CACHE_PREFIX": f"hubtest:{RUN_ID}:image:",
            "HUB_APPLICANT_PSEUDONYM_KEY": os.environ["HUB_APPLICANT_PSEUDONYM_KEY"],
        }
        env = [arg for key, value in settings.items() for arg in ("-e", f"{key}={value}")]
        migrated = podman("run", "--rm", "--read-only", "--network", "host", *env, image, "migrate")
        assert "the registry database is at revision" in migrated.stdout
        data = ["-v", f"{readable_copy(demo_data_dir, tmp_path_factory.mktemp('data'))}:/data:ro"]
        podman("run", "-d", "--name", name, "--read-only", "--network", "host", *data, *env, image)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_ready(url, name)
            yield Container(name, url, database_url)
        finally:
            podman("rm", "-f", name, check=False)


def readable_copy(source: Path, target: Path) -> Path:
    """The demo departments' databases where the image's user (uid 10001, not the test's) reads them."""
    shutil.copytree(source, target, dirs_exist_ok=True)
    target.chmod(0o755)
    for path in target.iterdir():
        path.chmod(0o644)
    return target


def wait_ready(url: str, name: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"the container is not ready:\n{podman('logs', name, check=False).stderr[-3000:]}")


def test_the_container_answers_healthz_and_its_healthcheck(container: Container) -> None:
    assert httpx.get(f"{container.url}/healthz").json() == {"status": "ok"}
    assert podman("healthcheck", "run", container.name, check=False).returncode == 0


def test_the_container_runs_as_a_non_root_uid_on_a_read_only_root(container: Container) -> None:
    assert podman("exec", container.name, "id", "-u").stdout.strip() == "10001"
    written = podman("exec", container.name, "touch", "/opt/hub/written", check=False)
    assert written.returncode != 0 and "Read-only file system" in written.stderr


def test_graphiqls_files_are_inside_the_image(container: Container) -> None:
    listed = podman("exec", container.name, "ls", "/opt/hub/share/graphiql").stdout.split()
    assert any(name.endswith(".js") for name in listed) and any(name.endswith(".css") for name in listed)


async def test_the_container_serves_a_graphql_query_with_a_real_token(container: Container) -> None:
    system = await register_system(container.database_url, ISSUER)
    auth = system.auth
    token = await system.token_from(auth, container.url)
    answer = await system.ask(auth, container.url, token)
    assert answer.status_code == 200, answer.text
    assert "errors" not in answer.json(), answer.json()
    assert len(answer.json()["data"]["enterprises"]["edges"]) == 3
    refused = await system.query_at(container.url, token, "not a proof")
    assert refused.status_code == 401
