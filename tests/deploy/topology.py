"""The production topology on real processes: a test CA, nginx terminating TLS with it, and hub
replicas (``hub serve``) configured from the environment as a container would be.

nginx is Debian's (``make test`` installs it as root); it runs as the test's own process with its
own prefix directory, so the machine's nginx set-up is neither needed nor touched.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import os
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hub.client import ASSERTION_TYPE, HubAuth, new_client_key
from hub.grants import GrantService
from hub.oauth.clock import Clock
from hub.store import Registry, connect
from tests.audit.hub_process import PROJECT, HubProcess, free_port
from tests.oauth.conftest import OPERATOR, SCOPE, grant_catalogue

NGINX = Path("/usr/sbin/nginx")
QUERY = "{ enterprises(first: 3) { edges { node { uscc name } } } }"
WHO = {"X-Hub-Purpose": "licensing", "X-Hub-End-User": "clerk-0042"}


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    certificate: Path
    key: Path

    def context(self) -> ssl.SSLContext:
        """What a client trusting only the test CA verifies with."""
        return ssl.create_default_context(cafile=str(self.ca))


def make_ca(directory: Path) -> TlsFiles:
    """A CA of the test's own and a server certificate it signs for 127.0.0.1 and localhost."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hub test CA")])
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    tls = TlsFiles(directory / "ca.pem", directory / "hub.crt", directory / "hub.key")
    tls.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    tls.certificate.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tls.key.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ))
    return tls


NGINX_CONF = """
worker_processes 2;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log {prefix}/access.log;
  client_body_temp_path {prefix}/body;
  proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi;
  uwsgi_temp_path {prefix}/uwsgi;
  scgi_temp_path {prefix}/scgi;
  upstream hub {{
{servers}
    keepalive 16;
  }}
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {certificate};
    ssl_certificate_key {key};
    location / {{
      proxy_pass http://hub;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_next_upstream error timeout;
    }}
  }}
}}
"""


@dataclass
class Nginx:
    port: int
    prefix: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


def start_nginx(prefix: Path, tls: TlsFiles, upstreams: list[int], port: int) -> Nginx:
    prefix.mkdir(parents=True, exist_ok=True)
    servers = "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;" for p in upstreams)
    conf = prefix / "nginx.conf"
    conf.write_text(NGINX_CONF.format(prefix=prefix, servers=servers, port=port,
                                      certificate=tls.certificate, key=tls.key))
    user = ["-g", "daemon off; user root;"] if os.geteuid() == 0 else ["-g", "daemon off;"]
    process = subprocess.Popen([str(NGINX), "-e", str(prefix / "error.log"), "-p", str(prefix), "-c", str(conf),
                                *user], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    nginx = Nginx(port, prefix, process)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{nginx.url}/healthz", verify=tls.context(), timeout=1)
            return nginx
        except httpx.TransportError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    nginx.stop()
    raise RuntimeError(f"nginx did not start: {(prefix / 'error.log').read_text(errors='replace')}")


def start_replica(name: str, env: dict[str, str], log_dir: Path) -> HubProcess:
    """``hub serve`` configured only by the environment, as in a container."""
    port = free_port()
    log = log_dir / f"hub-{name}.log"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    environment.update(env, HUB_PORT=str(port), HUB_APPLICANT_PSEUDONYM_KEY=os.environ["HUB_APPLICANT_PSEUDONYM_KEY"])
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "hub.cli", "serve"], cwd=PROJECT, env=environment,
                                   stdout=out, stderr=subprocess.STDOUT)
    return HubProcess(name, port, log, process)


def hub_command(env: dict[str, str], *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    environment.update(env, HUB_APPLICANT_PSEUDONYM_KEY=os.environ["HUB_APPLICANT_PSEUDONYM_KEY"])
    return subprocess.run([sys.executable, "-m", "hub.cli", *argv], cwd=PROJECT, env=environment,
                          capture_output=True, text=True, timeout=timeout, check=False)



async def register_system(database_url: str, issuer: str) -> System:
    """A market department system registered and granted market.enterprise:read for licensing."""
    engine = connect(database_url)
    try:
        registry = Registry(engine)
        if "market" not in {d.name for d in await registry.departments()}:
            await registry.add_department("market", "Market Regulation")
        key = new_client_key()
        public = {k: v for k, v in key.items() if k != "d"}
        client = await registry.register_client("market", "licensing system", public)
        service = GrantService(engine, grant_catalogue(), Clock())
        grant = await service.grant_now(OPERATOR, client.client_id, {SCOPE}, ("licensing",), "deployment test", 30)
    finally:
        await engine.dispose()
    return System(issuer, client.client_id, key, grant.grant_id)


@dataclass
class System:
    """What a department system does, aimed at any hub address: a replica, nginx, a container.
    Proofs name the issuer's URLs (``htu``) wherever the request goes, as behind a proxy."""

    issuer: str
    client_id: str
    key: dict[str, Any]
    grant_id: str

    @property
    def auth(self) -> HubAuth:
        return HubAuth(f"{self.issuer}/oauth/token", self.client_id, self.key, f"{self.issuer}/graphql", scope=SCOPE)

    async def token_from(self, auth: HubAuth, base_url: str) -> str:
        """A token from the hub at ``base_url``. A replay cache that has just begun remembering
        refuses proofs made within its first second, once (hub.oauth.replay): a new proof passes."""
        for attempt in range(2):
            form = {"grant_type": "client_credentials", "scope": SCOPE, "resource": f"{self.issuer}/graphql",
                    "client_assertion_type": ASSERTION_TYPE, "client_assertion": auth.client_assertion()}
            async with httpx.AsyncClient(base_url=base_url) as http:
                answer = await http.post("/oauth/token", data=form,
                                         headers={"DPoP": auth.proof("POST", f"{self.issuer}/oauth/token")})
            if attempt == 0 and "epoch" in answer.json().get("error_description", ""):
                await asyncio.sleep(1.1)
                continue
            break
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    async def query_at(self, base_url: str, token: str, proof: str, query: str = QUERY) -> httpx.Response:
        async with httpx.AsyncClient(base_url=base_url) as http:
            return await http.post("/graphql", json={"query": query},
                                   headers={**WHO, "Authorization": f"DPoP {token}", "DPoP": proof})

    async def ask(self, auth: HubAuth, base_url: str, token: str, query: str = QUERY) -> httpx.Response:
        proof = auth.proof("POST", f"{self.issuer}/graphql", token)
        return await self.query_at(base_url, token, proof, query)
