"""The deployment files are checked by the tools their users run: hadolint for the Dockerfile,
podman-compose for the compose file, kubernetes-validate against a current Kubernetes release for
the manifests; and each holds the properties a city's operator relies on (non-root, read-only root
filesystem, probes, migrations as their own step, secrets referenced and never embedded)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

DOCKER = Path(__file__).resolve().parents[2] / "docker"
BIN = Path(sys.executable).parent
KUBERNETES_VERSION = "1.37.0"


def run(*command: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)


def manifests() -> dict[str, dict[str, Any]]:
    found = {}
    for path in sorted((DOCKER / "kubernetes").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            found[document["kind"]] = document
    return found


def test_the_dockerfile_is_hadolint_clean_at_every_level() -> None:
    linted = run(BIN / "hadolint", "--failure-threshold", "style", DOCKER / "Dockerfile")
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_the_dockerfile_builds_on_a_base_argument_and_runs_hub_serve_as_a_non_root_user() -> None:
    text = (DOCKER / "Dockerfile").read_text()
    assert "ARG BASE=python:3.11-slim" in text and text.count("FROM ${BASE}") == 2  # multi-stage
    final = text.split("\nFROM ${BASE}\n", 1)[1]
    assert "pip install" not in final and "apt-get" not in final  # no build tools in the final stage
    assert "USER 10001:10001" in final and "HEALTHCHECK" in final
    assert 'ENTRYPOINT ["hub"]' in final and 'CMD ["serve"]' in final
    assert "COPY .demo/graphiql /opt/hub/share/graphiql" in text and "HUB_GRAPHIQL_ASSETS=/opt/hub/share/graphiql" in final


def test_the_kubernetes_manifests_validate_against_a_current_kubernetes() -> None:
    files = [path for path in sorted((DOCKER / "kubernetes").glob("*.yaml")) if path.name != "kustomization.yaml"]
    checked = run(BIN / "kubernetes-validate", "--strict", "-k", KUBERNETES_VERSION, *files)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("passed for resource") == len(files)


def test_a_manifest_with_a_mistake_is_refused_by_the_validator(tmp_path: Path) -> None:
    broken = (DOCKER / "kubernetes" / "deployment.yaml").read_text().replace("replicas: 2", "replicas: two")
    (tmp_path / "deployment.yaml").write_text(broken)
    checked = run(BIN / "kubernetes-validate", "--strict", "-k", KUBERNETES_VERSION, tmp_path / "deployment.yaml")
    assert checked.returncode != 0 and "two" in checked.stdout + checked.stderr


def test_the_manifests_hold_the_operators_guarantees() -> None:
    kinds = manifests()
    assert {"Deployment", "Service", "Ingress", "PodDisruptionBudget", "HorizontalPodAutoscaler", "Job",
            "NetworkPolicy", "ConfigMap"} <= set(kinds)
    assert "Secret" not in kinds  # referenced, never embedded
    deployment = kinds["Deployment"]["spec"]
    assert deployment["replicas"] >= 2
    pod = deployment["template"]["spec"]
    container = pod["containers"][0]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["resources"]["requests"] and container["resources"]["limits"]
    assert {"secretRef": {"name": "hub-secrets"}} in container["envFrom"]
    job = kinds["Job"]["spec"]["template"]["spec"]["containers"][0]
    assert job["args"] == ["migrate"] and job["securityContext"]["readOnlyRootFilesystem"] is True
    assert kinds["HorizontalPodAutoscaler"]["spec"]["minReplicas"] >= 2
    secrets_in_config = {"HUB_DATABASE_URL", "HUB_KEY_ENCRYPTION_KEY", "HUB_OPS_TOKEN"} & set(kinds["ConfigMap"]["data"])
    assert not secrets_in_config


@pytest.fixture
def compose_dir(tmp_path: Path) -> Path:
    """docker/ as an operator has it after following the README: hub.env and .env from the examples."""
    target = tmp_path / "docker"
    shutil.copytree(DOCKER, target)
    shutil.copy(target / "hub.env.example", target / "hub.env")
    (target / ".env").write_text((target / ".env.example").read_text().replace("POSTGRES_PASSWORD=", "POSTGRES_PASSWORD=example"))
    return target


def test_the_compose_file_is_valid_and_runs_two_replicas_after_a_one_shot_migration(compose_dir: Path) -> None:
    checked = run(BIN / "podman-compose", "config", cwd=compose_dir)
    assert checked.returncode == 0, checked.stderr
    services = yaml.safe_load(checked.stdout)["services"]
    assert {"postgres", "redis", "migrate", "hub-1", "hub-2", "nginx", "ecology", "security"} <= set(services)
    assert services["migrate"]["command"] == ["migrate"]
    for replica in ("hub-1", "hub-2"):
        hub = services[replica]
        assert hub["command"] == ["serve"] and hub["read_only"] is True and hub["user"] == "10001:10001"
        assert hub["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert hub["environment"]["HUB_DATABASE_URL"] == "postgresql+asyncpg://hub:example@postgres:5432/hub"
        assert hub["environment"]["HUB_TRUSTED_PROXIES"] == services["nginx"]["networks"]["hub"]["ipv4_address"]
    assert "8443:8443" in services["nginx"]["ports"]


def test_the_compose_files_secrets_stay_out_of_git() -> None:
    ignored = (DOCKER.parent / ".gitignore").read_text().split()
    assert {"docker/hub.env", "docker/.env", "docker/tls/"} <= set(ignored)
    example = (DOCKER / "hub.env.example").read_text()
    assert all(line.endswith("=") for line in example.splitlines() if line.startswith("HUB_") and "KEY" in line)


def test_the_compose_file_without_a_database_password_is_refused(compose_dir: Path) -> None:
    (compose_dir / ".env").write_text("")
    checked = run(BIN / "podman-compose", "config", cwd=compose_dir)
    assert checked.returncode != 0 and "POSTGRES_PASSWORD" in checked.stdout + checked.stderr
