"""``hub gateways``: what an operator types to register a gateway and rotate or revoke its certificates."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.cli import main
from tests.federation.pki import Authority
from tests.oauth.test_registry_cli import operator_env  # noqa: F401


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """The exit code and what was said: standard output, or standard error for a refusal."""
    code = main(argv)  # type: ignore[arg-type]
    said = capsys.readouterr()
    if code:
        assert said.out == "" and said.err.startswith(f"hub {argv[0]}: "), said
        return code, said.err
    return code, said.out


def test_an_operator_registers_a_gateway_rotates_its_certificate_and_revokes_the_old_one(
    operator_env: Path, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    authority = Authority(operator_env)
    old, new = authority.issue("gateway-2026"), authority.issue("gateway-2027")
    assert run(capsys, "registry", "add-department", "centre", "--title", "Service Centre")[0] == 0
    code, out = run(capsys, "gateways", "register", "centre", "City gateway", "--certificate", str(old.certificate))
    gateway = out.strip()
    assert code == 0 and gateway.startswith("centre-gw-")
    assert run(capsys, "gateways", "add-certificate", gateway, "--certificate", str(new.certificate))[0] == 0
    listed = run(capsys, "gateways", "list")[1]
    assert gateway in listed and old.loaded.thumbprint in listed and new.loaded.thumbprint in listed
    # "--": a base64url thumbprint begins with '-' one time in 64, which argparse would take for an option
    assert run(capsys, "gateways", "remove-certificate", gateway, "--", old.loaded.thumbprint)[0] == 0
    listed = run(capsys, "gateways", "list")[1]
    assert old.loaded.thumbprint not in listed and new.loaded.thumbprint in listed


def test_a_thumbprint_beginning_with_a_dash_is_read_after_the_double_dash_not_taken_for_an_option(
    operator_env: Path, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    authority = Authority(operator_env)
    cert = authority.issue("gateway-dash")
    assert run(capsys, "registry", "add-department", "centre", "--title", "Service Centre")[0] == 0
    gateway = run(capsys, "gateways", "register", "centre", "City gateway", "--certificate", str(cert.certificate))[1]
    dashed = "-" + "A" * 42  # a thumbprint's shape, registered for no gateway
    code, said = run(capsys, "gateways", "remove-certificate", gateway.strip(), "--", dashed)
    assert code == 1 and dashed in said  # the registry's refusal, not argparse's usage error (2)


@pytest.mark.parametrize(("content", "words"), [
    (b"", "1-16384 bytes"),
    (b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n", "not an X.509 certificate"),
    (b"\x30" * 20_000, "1-16384 bytes"),
])
def test_a_file_that_is_not_one_certificate_is_refused(
    operator_env: Path, capsys: pytest.CaptureFixture[str], content: bytes, words: str  # noqa: F811
) -> None:
    bad = operator_env / "bad.pem"
    bad.write_bytes(content)
    run(capsys, "registry", "add-department", "centre", "--title", "Service Centre")
    code, out = run(capsys, "gateways", "register", "centre", "City gateway", "--certificate", str(bad))
    assert code == 1 and words in out


def test_a_certificate_registered_twice_or_to_a_system_is_refused(
    operator_env: Path, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    certificate = Authority(operator_env).issue("gateway")
    run(capsys, "registry", "add-department", "centre", "--title", "Service Centre")
    gateway = run(capsys, "gateways", "register", "centre", "A", "--certificate", str(certificate.certificate))[1]
    code, out = run(capsys, "gateways", "add-certificate", gateway.strip(), "--certificate",
                    str(certificate.certificate))
    assert code == 1 and "conflict: certificate" in out and "registered already" in out
    code, out = run(capsys, "gateways", "add-certificate", "centre-0000", "--certificate", str(certificate.certificate))
    assert (code, out) == (1, "hub gateways: not found: no gateway 'centre-0000'\n")


def test_a_gateway_or_certificate_not_there_is_not_found_and_a_malformed_one_refused(
    operator_env: Path, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    certificate = Authority(operator_env).issue("gateway")
    run(capsys, "registry", "add-department", "centre", "--title", "Service Centre")
    gateway = run(capsys, "gateways", "register", "centre", "A", "--certificate", str(certificate.certificate))[1]
    gateway = gateway.strip()
    absent = "A" * 43
    code, out = run(capsys, "gateways", "remove-certificate", gateway, absent)
    assert (code, out) == (1, f"hub gateways: not found: gateway {gateway} has no certificate {absent!r}\n")
    code, out = run(capsys, "gateways", "remove-certificate", "centre-0000", absent)
    assert (code, out) == (1, "hub gateways: not found: no gateway 'centre-0000'\n")
    for client_id, thumbprint in ((gateway, "not a thumbprint"), ("centre", absent)):
        code, out = run(capsys, "gateways", "remove-certificate", client_id, thumbprint)
        assert code == 1 and "not found" not in out and "is not a" in out, (client_id, thumbprint)
    assert certificate.loaded.thumbprint in run(capsys, "gateways", "list")[1]


def test_a_gateway_gets_no_keys_so_no_tokens(
    operator_env: Path, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    import json

    from hub.store.signing_keys import new_key_pair

    certificate = Authority(operator_env).issue("gateway")
    run(capsys, "registry", "add-department", "centre", "--title", "Service Centre")
    gateway = run(capsys, "gateways", "register", "centre", "A", "--certificate", str(certificate.certificate))[1]
    jwk_file = operator_env / "key.pub.json"
    jwk_file.write_text(json.dumps(new_key_pair()[0]))
    code, out = run(capsys, "registry", "add-key", gateway.strip(), "--jwk", str(jwk_file))
    assert code == 1 and "is a gateway" in out
