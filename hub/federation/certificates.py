"""Which TLS client certificate a request came with, wherever TLS ended.

- In the hub (``hub.federation.tls``, or any ASGI server with the TLS extension): the verified peer
  certificate in ``scope["extensions"]["tls"]["client_cert_chain"]``.
- In a proxy in front (nginx, Envoy, a Kubernetes ingress): the proxy verifies the certificate and
  passes it on in RFC 9440's ``Client-Cert`` header (``:<base64 DER>:``). The hub believes that
  header only from an address in ``trusted_proxies``; from any other address the request is
  refused, so a header forged past a misconfigured proxy is seen, not quietly ignored.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Iterable

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from hub.errors import AccessRefused
from hub.oauth.rfc8705 import ClientCertificate, UnacceptableCertificate

CLIENT_CERT = "client-cert"  # RFC 9440 section 2.2
PEER = "hub.peer"  # the connection's own peer, before any forwarded-for rewrites scope["client"]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(addresses: Iterable[str]) -> tuple[Network, ...]:
    """``trusted_proxies`` as networks (an address alone is a network of one)."""
    return tuple(ipaddress.ip_network(a.strip(), strict=False) for a in addresses if a.strip())


def presented_certificate(request: Request, proxies: tuple[Network, ...]) -> ClientCertificate | None:
    """The certificate the request came with, None without one; ``AccessRefused`` when it cannot be believed."""
    chain = (request.scope.get("extensions") or {}).get("tls", {}).get("client_cert_chain") or []
    if chain:
        return _load(chain[0].encode("ascii") if isinstance(chain[0], str) else chain[0])
    forwarded = request.headers.getlist(CLIENT_CERT)
    if not forwarded:
        return None
    if not _trusted(request, proxies):
        raise refused("a Client-Cert header is believed only from a proxy in trusted_proxies")
    if len(forwarded) != 1:
        raise refused("one Client-Cert header, please")
    return _load(_sf_binary(forwarded[0]))


class KeepPeer:
    """Keeps the connection's peer address in the scope before ``X-Forwarded-For`` replaces ``client``.

    The forwarded-for rewrite names the end client; whether a ``Client-Cert`` header can be believed
    depends on who sent it on this connection: the proxy.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope[PEER] = scope.get("client")
        await self.app(scope, receive, send)


def refused(description: str) -> AccessRefused:
    return AccessRefused(401, "invalid_client", description, 'DPoP algs="ES256"')


def _trusted(request: Request, proxies: tuple[Network, ...]) -> bool:
    peer = request.scope.get(PEER) or request.scope.get("client")
    host = peer[0] if peer else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in proxies)


def _sf_binary(value: str) -> bytes:
    """An RFC 8941 byte sequence (``:base64:``), as RFC 9440 sends a certificate's DER."""
    value = value.strip()
    if len(value) < 3 or value[0] != ":" or value[-1] != ":":
        raise refused("the Client-Cert header is a byte sequence, :<base64 DER>: (RFC 9440)")
    try:
        return base64.b64decode(value[1:-1], validate=True)
    except (binascii.Error, ValueError):
        raise refused("the Client-Cert header is not base64") from None


def _load(data: bytes) -> ClientCertificate:
    try:
        return ClientCertificate.load(data)
    except UnacceptableCertificate as exc:
        raise refused(f"client certificate: {exc}") from None
