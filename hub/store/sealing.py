"""Private keys sealed at rest with AES-256-GCM under the key-encryption key from settings.

``HUB_KEY_ENCRYPTION_KEY`` holds 32 random bytes, base64url. Development generates one under
the state directory (``.demo/key-encryption-key``, mode 0600); production refuses to start
without it (``hub.settings``). The key id is bound as associated data, so a sealed key moved
to another row does not open.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub.settings import Settings, SettingsError

KEY_FILE = "key-encryption-key"


class SealError(ValueError):
    """A sealed value that does not open: wrong key-encryption key or tampered data."""


def new_key_encryption_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


def decode_key(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise SettingsError(
            "HUB_KEY_ENCRYPTION_KEY must be 32 bytes, base64url (hub registry new-key-encryption-key)"
        )
    return raw


class Sealer:
    def __init__(self, key: bytes) -> None:
        self._key = key
        self._aead = AESGCM(key)

    @classmethod
    def from_settings(cls, settings: Settings) -> Sealer:
        if settings.key_encryption_key:
            return cls(decode_key(settings.key_encryption_key))
        if not settings.development:
            raise SettingsError("production needs HUB_KEY_ENCRYPTION_KEY to open the signing keys")
        return cls(decode_key(_development_key(settings.state_dir / KEY_FILE)))

    def derive(self, label: str) -> bytes:
        """A secret for another purpose (DPoP nonces), derived so the sealing key never leaves."""
        import hashlib
        import hmac

        return hmac.new(self._key, f"hub:{label}".encode(), hashlib.sha256).digest()

    def seal(self, plaintext: bytes, context: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def open(self, sealed: bytes, context: str) -> bytes:
        try:
            return self._aead.decrypt(sealed[:12], sealed[12:], context.encode())
        except InvalidTag:
            raise SealError(
                f"sealed key {context!r} does not open with this HUB_KEY_ENCRYPTION_KEY"
            ) from None


def _development_key(path: Path) -> str:
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(new_key_encryption_key())
    return path.read_text().strip()
