"""Personal-field tokens as entity resolution sees them (T/JNBDA 0003-2025 7.4, contracts §3).

Entity resolution matches exact keys on blind indexes and needs plaintext only for similarity,
in memory. This module is the narrow seam to ``ecfusion.security``: a ``FieldReader`` decrypts a
token and computes the blind index of a value. ``open_reader(workspace)`` returns the workspace's
``FieldCipher``; tests and benchmarks pass their own reader with the same two methods.
"""

from __future__ import annotations

from typing import Protocol

from ecfusion.config import Workspace
from ecfusion.errors import KeyStoreError

TOKEN_PREFIX = "ef1:"


class FieldReader(Protocol):
    """What resolution needs from the field cipher: in-memory decrypt and blind index."""

    def decrypt(self, token: str) -> str: ...

    def blind_index(self, kind: str, value: str) -> str: ...


def open_reader(workspace: Workspace) -> FieldReader:
    """The workspace's field cipher (``ecfusion.security.fields.FieldCipher``)."""
    try:
        from ecfusion.security.fields import FieldCipher
    except ImportError as e:  # the security package is built in parallel
        raise KeyStoreError(
            f"no field cipher available for workspace {workspace.root}",
            hint="install ecfusion with its security package, or pass reader= to ecfusion.resolve.run",
        ) from e
    reader: FieldReader = FieldCipher.open(workspace)
    return reader


def token_blind_index(token: str | None) -> str | None:
    """The blind index inside an ``ef1:`` token, without decrypting it (None if not a token)."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    parts = token.split(":", 4)
    return (parts[3] or None) if len(parts) == 5 else None


def safe_decrypt(reader: FieldReader, token: str | None) -> str | None:
    """Plaintext of a token, or None when absent, malformed or erased (a shredded subject)."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    try:
        return reader.decrypt(token)
    except Exception:  # erased subject or corrupt token: the field simply does not take part
        return None
