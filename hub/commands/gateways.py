"""``hub gateways``: Federation gateways, clients of their own kind known by TLS client certificates.

hub gateways register DEPARTMENT NAME --certificate GATEWAY.pem   (what it reads: `hub grants`)
hub gateways list
hub gateways add-certificate CLIENT_ID --certificate NEW.pem       (rotation: add the new one ...)
hub gateways remove-certificate CLIENT_ID [--] THUMBPRINT          (... then remove the old; or revoke)

A certificate is named by its RFC 8705 thumbprint (x5t#S256); removing one refuses it from the
gateway's next request on. A thumbprint is base64url and may begin with '-': give it after `--`,
as in `hub gateways remove-certificate centre-gw-1 -- -Xb3...`. Disable a gateway with
`hub registry disable CLIENT_ID`. Each change is on the admin log, by the OS user or --as NAME,
role operator.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from hub.commands.registry import Keys, _noted, _with_registry
from hub.oauth.rfc8705 import ClientCertificate, UnacceptableCertificate
from hub.settings import Settings
from hub.store import Registry, RegistryError
from hub.store.gateways import Gateways
from hub.store.registry import ClientRecord


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("gateways", help="Federation gateways and their TLS client certificates",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, help="settings file (TOML); default: $HUB_CONFIG")
    parser.add_argument("--as", dest="username", default=None, help="the operator's name (default: OS user)")
    sub = parser.add_subparsers(metavar="ACTION", required=True)
    new = _add(sub, "register", _register, "register a gateway of a department by its certificate")
    new.add_argument("department")
    new.add_argument("name")
    new.add_argument("--certificate", type=Path, required=True, help="the gateway's client certificate (PEM)")
    _add(sub, "list", _list, "list gateways and their certificates")
    add = _add(sub, "add-certificate", _add_certificate, "add a certificate to a gateway (rotation)")
    add.add_argument("client_id")
    add.add_argument("--certificate", type=Path, required=True)
    remove = _add(sub, "remove-certificate", _remove_certificate, "remove a gateway's certificate by thumbprint")
    remove.add_argument("client_id")
    remove.add_argument("thumbprint", help="as `hub gateways list` shows it; one beginning with '-' after `--`")


def _add(sub: Any, name: str, action: Any, help: str) -> argparse.ArgumentParser:
    import asyncio

    parser: argparse.ArgumentParser = sub.add_parser(name, help=help)
    parser.set_defaults(run=lambda args: asyncio.run(_with_registry(args, action)))
    return parser


def _certificate(path: Path) -> ClientCertificate:
    try:
        return ClientCertificate.load(path.read_bytes())
    except (OSError, UnacceptableCertificate) as exc:
        raise RegistryError(f"cannot read a certificate from {path}: {exc}") from None


def _gateway_registered(c: ClientRecord) -> tuple[str, str, dict[str, Any]]:
    return "gateway.register", c.client_id, {"department": c.department, "name": c.name}


async def _register(args: argparse.Namespace, settings: Settings, registry: Registry, keys: Keys) -> int:
    gateway = await Gateways(registry.engine).register(
        args.department, args.name, _certificate(args.certificate), noted=_noted(args, _gateway_registered))
    print(gateway.client_id)
    return 0


async def _list(args: argparse.Namespace, settings: Settings, registry: Registry, keys: Keys) -> int:
    gateways = Gateways(registry.engine)
    for client in (c for c in await registry.clients() if c.kind == "gateway"):
        print(f"{client.client_id}  {client.status}  {client.department}  {client.name}")
        print(f"    granted now: {' '.join(sorted(client.scopes)) or '(none)'}")
        for thumbprint, subject, not_after in await gateways.certificates(client.client_id):
            until = dt.datetime.fromtimestamp(not_after, dt.UTC).date().isoformat()
            print(f"    certificate {thumbprint}  {subject}  until {until}")
    return 0


async def _add_certificate(args: argparse.Namespace, settings: Settings, registry: Registry, keys: Keys) -> int:
    certificate = _certificate(args.certificate)
    noted = _noted(args, lambda thumbprint: ("gateway.certificate_add", args.client_id, {"thumbprint": thumbprint}))
    await Gateways(registry.engine).add_certificate(args.client_id, certificate, noted=noted)
    print(f"{args.client_id}: certificate {certificate.thumbprint} added")
    return 0


async def _remove_certificate(args: argparse.Namespace, settings: Settings, registry: Registry, keys: Keys) -> int:
    noted = _noted(args, lambda thumbprint: ("gateway.certificate_remove", args.client_id,
                                             {"thumbprint": thumbprint}))
    await Gateways(registry.engine).remove_certificate(args.client_id, args.thumbprint, noted=noted)
    print(f"{args.client_id}: certificate {args.thumbprint} removed; refused from its next request")
    return 0
