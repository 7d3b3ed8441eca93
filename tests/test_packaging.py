"""Packaging that matches use: what a wheel carries, what each kind of user installs and imports.

- An operator installs the hub's wheel in a clean virtualenv and runs ``hub serve``: the policies
  and the department bindings come with it.
- A department system installs the client helper (``client/``: ``hub_client.HubAuth``) with httpx
  and cryptography only, nothing of the hub's server.
- Production never imports the demo generator (``hub.demo``).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

PROJECT = Path(__file__).resolve().parent.parent
SOURCES = ("hub", "schema", "connectors", "policies", "client", "pyproject.toml", "README.md")


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    environment.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment,
                          cwd=PROJECT, timeout=300)


def top_level_modules_after(statement: str) -> set[str]:
    """The non-standard-library top-level modules a fresh interpreter holds after ``statement``."""
    code = (
        "import sys\n"
        f"{statement}\n"
        "print('\\n'.join(sorted({m.split('.')[0] for m in sys.modules} - set(sys.stdlib_module_names))))\n"
    )
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    # The interpreter's own (site, the editable install's finder, __main__) are in both runs alike.
    return set(done.stdout.split())


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_the_client_helper_imports_with_httpx_and_cryptography_alone() -> None:
    needed = top_level_modules_after("import hub_client")
    allowed = top_level_modules_after("import httpx\nimport cryptography.hazmat.primitives.asymmetric.ec")
    assert needed - allowed == {"hub_client"}
    for server_part in ("hub", "joserfc", "authlib", "starlette", "strawberry", "sqlalchemy", "graphql"):
        assert server_part not in needed


def test_the_client_helper_signs_dpop_proofs_the_hub_can_verify() -> None:
    """ES256 made with cryptography alone: the signature verifies over the JWS signing input."""
    code = (
        "import json\nfrom hub_client import HubAuth, new_client_key\n"
        "auth = HubAuth('https://hub.test/oauth/token', 'c1', new_client_key(), 'https://hub.test/graphql', 's')\n"
        "print(json.dumps({'proof': auth.proof('POST', 'https://hub.test/graphql?x=1', 'token'),"
        " 'assertion': auth.client_assertion()}))\n"
    )
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    signed = json.loads(done.stdout)
    head, body, signature = signed["proof"].split(".")
    header, claims = json.loads(b64decode(head)), json.loads(b64decode(body))
    assert header["alg"] == "ES256" and header["typ"] == "dpop+jwt" and set(header["jwk"]) == {"kty", "crv", "x", "y"}
    assert claims["htu"] == "https://hub.test/graphql" and claims["htm"] == "POST" and "ath" in claims
    numbers = ec.EllipticCurvePublicNumbers(
        int.from_bytes(b64decode(header["jwk"]["x"]), "big"), int.from_bytes(b64decode(header["jwk"]["y"]), "big"),
        ec.SECP256R1(),
    )
    raw = b64decode(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    numbers.public_key().verify(der, f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
    with pytest.raises(InvalidSignature):
        numbers.public_key().verify(der, f"{head}.{body}x".encode(), ec.ECDSA(hashes.SHA256()))
    assertion_header = json.loads(b64decode(signed["assertion"].split(".")[0]))
    assert assertion_header == {"typ": "JWT", "kid": assertion_header["kid"], "alg": "ES256"}


def test_the_client_helper_refuses_a_key_whose_point_is_not_its_own() -> None:
    from hub_client import HubAuth, new_client_key

    key, other = new_client_key(), new_client_key()
    with pytest.raises(ValueError, match="not the public point"):
        HubAuth("https://hub.test/oauth/token", "c1", {**key, "x": other["x"]}, "https://hub.test/graphql", "s")
    with pytest.raises(ValueError, match="P-256 private JWK"):
        HubAuth("https://hub.test/oauth/token", "c1", {**key, "crv": "P-384"}, "https://hub.test/graphql", "s")
    with pytest.raises(ValueError, match="P-256 private JWK"):
        HubAuth("https://hub.test/oauth/token", "c1", {k: v for k, v in key.items() if k != "d"},
                "https://hub.test/graphql", "s")


def test_the_production_app_does_not_import_the_demo_generator(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from hub.cli import build_parser\n"
        "from hub.commands.serve import serve\n"
        "from hub.app import create_app\n"
        "from hub.settings import load_settings\n"
        "build_parser()\n"
        f"create_app(load_settings(environment='development', state_dir={str(tmp_path)!r}))\n"
        "print(sorted(m for m in sys.modules if m == 'hub.demo' or m.startswith('hub.demo.')))\n"
    )
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def built_wheel(source: Path, into: Path, project: Path = PROJECT) -> Path:
    """``pip wheel --no-deps`` over a copy of the sources (the checkout stays as it is)."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "build", "*.egg-info")
    for name in SOURCES:
        path = project / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=skip)
        else:
            shutil.copy(path, source / name)
    return wheel_of(source, into)


def wheel_of(project: Path, into: Path) -> Path:
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(into), str(project)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    (wheel,) = into.glob("*.whl")
    return wheel


def clean_venv(where: Path, *requirements: str) -> Path:
    """A virtualenv of its own (no site packages), with ``requirements`` and their dependencies; no
    bytecode compiled ahead of use (``--no-compile``): Python compiles what the test imports."""
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, timeout=300)
    done = subprocess.run([str(where / "bin" / "pip"), "install", "-q", "--no-compile", *requirements],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    return where / "bin"


def isolated_env(**env: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("HUB_", "OTEL_", "PYTHON", "VIRTUAL_ENV"))}
    environment.update(env)
    return environment


@pytest.mark.slow
def test_a_built_wheel_serves_the_graph_from_a_clean_venv(tmp_path: Path) -> None:
    wheel = built_wheel(tmp_path / "src", tmp_path / "dist")
    bin_dir = clean_venv(tmp_path / "venv", str(wheel))
    run = tmp_path / "run"
    run.mkdir()
    where = subprocess.run([str(bin_dir / "python"), "-c", "import hub, policies; print(hub.__file__)"],
                           capture_output=True, text=True, cwd=run, env=isolated_env(), check=True)
    assert where.stdout.startswith(str(tmp_path / "venv"))  # the wheel's hub, not the checkout's
    subprocess.run([str(bin_dir / "hub"), "demo", "generate", "--data-dir", str(run / "data"), "--enterprises", "30",
                    "--as-of", "2026-11-01"], cwd=run, env=isolated_env(), check=True, capture_output=True, timeout=300)
    port = free_port()
    environment = isolated_env(HUB_ENV="development", HUB_PORT=str(port), HUB_STATE_DIR=str(run / "state"),
                               HUB_DEMO_DATA=str(run / "data"), HUB_ANONYMOUS_ACCESS="true")
    server = subprocess.Popen([str(bin_dir / "hub"), "serve"], cwd=run, env=environment,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "hub serve did not answer /healthz"
            time.sleep(0.5)
        query = "{ enterprises(first: 2) { edges { node { uscc name legalRepresentative { name } } } } }"
        answer = httpx.post(f"{base}/graphql", json={"query": query}, timeout=30).json()
        assert "errors" not in answer
        edges = answer["data"]["enterprises"]["edges"]
        assert len(edges) == 2 and all(len(edge["node"]["uscc"]) == 18 for edge in edges)
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
def test_the_client_distribution_installs_with_httpx_and_cryptography_only(tmp_path: Path) -> None:
    wheel = wheel_of(PROJECT / "client", tmp_path / "dist")
    bin_dir = clean_venv(tmp_path / "venv", str(wheel))
    listed = subprocess.run([str(bin_dir / "pip"), "list", "--format", "json"], capture_output=True, text=True,
                            env=isolated_env(), check=True)
    installed = {package["name"].lower() for package in json.loads(listed.stdout)}
    assert {"service-centre-hub-client", "httpx", "cryptography"} <= installed
    assert not installed & {"service-centre-hub", "starlette", "strawberry-graphql", "sqlalchemy", "joserfc", "authlib"}
    signed = subprocess.run(
        [str(bin_dir / "python"), "-c",
         "from hub_client import HubAuth, new_client_key\n"
         "auth = HubAuth('https://hub.test/oauth/token', 'c1', new_client_key(), 'https://hub.test/graphql', 's')\n"
         "print(auth.proof('GET', 'https://hub.test/graphql'))"],
        capture_output=True, text=True, cwd=tmp_path, env=isolated_env(), check=True,
    )
    assert json.loads(b64decode(signed.stdout.split(".")[0]))["typ"] == "dpop+jwt"
