"""Encryption of source secrets and OAuth tokens at rest in the control plane (7.4, 5.1 compliance).

App secrets, passwords and access/refresh tokens are sealed with AES-256-GCM under a dedicated
key derived (HKDF-SHA256) from the workspace master key, bound by associated data to the row they
belong to (a sealed token copied to another source does not open). Plaintext lives only in memory.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ecfusion.errors import KeyStoreError

_PREFIX = "sb1:"


class SecretBox:
    """Seal and open small secrets; ``context`` (e.g. ``"source:tmall/app_secret"``) must match."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("SecretBox needs a 32-byte key")
        self._aead = AESGCM(key)

    @classmethod
    def from_master_key(cls, master_key: bytes) -> SecretBox:
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"ecfusion/sources/secrets/v1")
        return cls(hkdf.derive(master_key))

    def seal(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        ct = self._aead.encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        return _PREFIX + base64.urlsafe_b64encode(nonce + ct).decode("ascii")

    def open(self, sealed: str, context: str) -> str:
        if not sealed.startswith(_PREFIX):
            raise KeyStoreError(f"stored secret for {context} is not sealed", hint="set the secret again")
        raw = base64.urlsafe_b64decode(sealed[len(_PREFIX) :])
        try:
            return self._aead.decrypt(raw[:12], raw[12:], context.encode("utf-8")).decode("utf-8")
        except InvalidTag as e:
            raise KeyStoreError(
                f"stored secret for {context} cannot be opened with this workspace's master key",
                hint="use the master key the secret was stored with, or set the secret again",
            ) from e
