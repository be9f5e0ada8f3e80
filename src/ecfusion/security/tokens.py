"""The personal-field token format (docs/dev/contracts.md §3; T/JNBDA 0003-2025 clause 7.4).

A personal value in a landed payload is replaced by one string::

    ef1:<kind>:<subject>:<blind_index>:<ciphertext>

* ``kind`` — phone, id_number, name, address, email or bank_card;
* ``subject`` — the pseudonymous subject id (24 hex characters, a keyed hash of the subject key
  such as ``taobao:<buyer_open_uid>``), whose data key encrypts the value;
* ``blind_index`` — 24 hex characters, a keyed MAC of the normalized value; empty when the
  value is not matchable (a masked copy such as ``138****5678`` or a platform ciphertext, where
  equal text does not mean the same person);
* ``ciphertext`` — urlsafe base64 (no padding) of ``algorithm byte ‖ 12-byte nonce ‖ AEAD
  ciphertext and tag``; algorithm 1 = AES-256-GCM, 2 = SM4-GCM. The AEAD's associated data is
  ``ef1:<kind>:<subject>:<blind_index>``, so a token cannot be re-labelled or moved.

A token with an empty ciphertext is *withheld*: the value arrived for a subject that was
already erased and was not stored at all.

Inside free text (a buyer message with a phone number in it) each personal span is replaced by
``⟦token⟧`` so the rest of the text keeps its meaning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ecfusion.errors import InputError

TOKEN_PREFIX = "ef1:"
INLINE_OPEN, INLINE_CLOSE = "⟦", "⟧"

_TOKEN_BODY = r"ef1:([a-z_]+):([0-9a-f]{24}):([0-9a-f]{24}|):([A-Za-z0-9_-]*)"
_TOKEN = re.compile(_TOKEN_BODY)
INLINE_TOKEN = re.compile(INLINE_OPEN + _TOKEN_BODY + INLINE_CLOSE)


@dataclass(frozen=True)
class Token:
    """A parsed personal-field token."""

    kind: str
    subject: str
    blind_index: str
    ciphertext: str

    @property
    def withheld(self) -> bool:
        """True when no ciphertext was stored (the subject had been erased before landing)."""
        return not self.ciphertext

    @property
    def associated_data(self) -> bytes:
        return associated_data(self.kind, self.subject, self.blind_index)

    def __str__(self) -> str:
        return format_token(self.kind, self.subject, self.blind_index, self.ciphertext)


def associated_data(kind: str, subject: str, blind_index: str) -> bytes:
    return f"{TOKEN_PREFIX}{kind}:{subject}:{blind_index}".encode()


def format_token(kind: str, subject: str, blind_index: str, ciphertext: str) -> str:
    return f"{TOKEN_PREFIX}{kind}:{subject}:{blind_index}:{ciphertext}"


def is_token(value: object) -> bool:
    """True if ``value`` is a whole personal-field token (not text with tokens inside)."""
    return isinstance(value, str) and value.startswith(TOKEN_PREFIX) and _TOKEN.fullmatch(value) is not None


def parse_token(token: str) -> Token:
    """Split a token into its parts; ``InputError`` if it is not one."""
    match = _TOKEN.fullmatch(token) if isinstance(token, str) else None
    if match is None:
        shown = token if len(str(token)) <= 40 else f"{str(token)[:40]}…"
        raise InputError(f"not an ecfusion personal-field token: {shown!r}",
                         hint="tokens look like ef1:<kind>:<subject>:<blind_index>:<ciphertext>")
    return Token(*match.groups())


def inline(token: str) -> str:
    """The form a token takes inside free text."""
    return f"{INLINE_OPEN}{token}{INLINE_CLOSE}"


def tokens_in_text(text: str) -> list[Token]:
    """Every token embedded in free text (``⟦ef1:…⟧``)."""
    return [Token(*m.groups()) for m in INLINE_TOKEN.finditer(text)]
