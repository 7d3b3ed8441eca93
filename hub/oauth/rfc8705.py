"""RFC 8705 (OAuth 2.0 Mutual-TLS Client Authentication), as a Federation gateway uses it here.

A gateway is identified by the TLS client certificate it presents, bound by the certificate's
SHA-256 thumbprint (section 3.1, ``x5t#S256``: base64url, no padding, of the DER). The hub keeps
the thumbprints registered for each gateway client the way it keeps a system's public keys
(section 2.1's PKI method: the TLS layer checks the chain against the configured CA; the registry
decides which certificate is which client). Rotation is adding the new certificate and then
removing the old; removing one refuses it from the next request on, as the registry is read on
every request and nothing is cached.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

MAX_CERTIFICATE_BYTES = 16_384  # a gateway's leaf certificate is a few KB; more is not a certificate


class UnacceptableCertificate(ValueError):
    """Not one certificate in PEM or DER, or one the hub will not register; the message says why."""


@dataclass(frozen=True, slots=True)
class ClientCertificate:
    der: bytes
    thumbprint: str  # x5t#S256
    subject: str
    not_after: int  # Unix seconds

    @classmethod
    def load(cls, data: bytes) -> ClientCertificate:
        """One X.509 certificate, PEM or DER (at most ``MAX_CERTIFICATE_BYTES``)."""
        if not isinstance(data, bytes) or not data or len(data) > MAX_CERTIFICATE_BYTES:
            raise UnacceptableCertificate(f"a certificate is 1-{MAX_CERTIFICATE_BYTES} bytes of PEM or DER")
        try:
            found = (x509.load_pem_x509_certificate(data) if data.lstrip().startswith(b"-----BEGIN")
                     else x509.load_der_x509_certificate(data))
        except ValueError:
            raise UnacceptableCertificate("not an X.509 certificate in PEM or DER") from None
        der = found.public_bytes(Encoding.DER)
        return cls(der, thumbprint(der), found.subject.rfc4514_string()[:400],
                   int(found.not_valid_after_utc.timestamp()))


def thumbprint(der: bytes) -> str:
    """``x5t#S256`` of a DER certificate (RFC 8705 section 3.1)."""
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode("ascii")
