"""TLS ending in the hub: the peer's verified certificate handed to the app, as ASGI's TLS extension.

uvicorn verifies a client certificate when told to (``ssl_cert_reqs``, ``ssl_ca_certs``) but does
not pass it to the application: its scope has no ``extensions["tls"]`` (the ASGI TLS extension),
and the ``ssl`` object stays in the transport. ``PeerCertificateProtocol`` is uvicorn's own HTTP
protocol with one addition: once the handshake is done, every request on the connection carries
``scope["extensions"]["tls"]["client_cert_chain"]`` with the verified peer certificate (PEM), as the
extension specifies. ``hub serve`` uses it when the settings name a TLS certificate; nothing else
about uvicorn changes. Any ASGI server that fills the same extension works as well.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any, cast

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol


class PeerCertificateProtocol(H11Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvicorn's own signature narrows asyncio's; a stream server hands it a Transport.
        super().connection_made(cast(asyncio.Transport, transport))
        ssl_object: ssl.SSLObject | None = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if der:
            self.app = WithPeerCertificate(self.app, ssl.DER_cert_to_PEM_cert(der))


class WithPeerCertificate:
    """The app, with this connection's verified client certificate in each request's TLS extension."""

    def __init__(self, app: ASGIApp, pem: str) -> None:
        self.app = app
        self.tls: dict[str, Any] = {"client_cert_chain": [pem], "client_cert_error": None}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = {**scope, "extensions": {**scope.get("extensions", {}), "tls": self.tls}}
        await self.app(scope, receive, send)


def server_context_options(certificate: str, key: str, client_ca: str) -> dict[str, Any]:
    """uvicorn's TLS options for the hub: a client certificate asked for, and verified when presented.

    Optional, not required: department systems reach /graphql with tokens and no certificate; a
    gateway presents one, and the subgraph endpoints decide what it is (``hub.federation.gateways``).
    """
    return {"ssl_certfile": certificate, "ssl_keyfile": key, "ssl_ca_certs": client_ca,
            "ssl_cert_reqs": ssl.CERT_OPTIONAL, "http": PeerCertificateProtocol}
