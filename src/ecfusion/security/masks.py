"""How a personal value is shown when ecfusion must name one to a user (T/JNBDA 0003-2025 7.4):
masked as the platforms mask a mobile, the first three and last four characters (``138****5678``),
never whole; an e-mail keeps the first letter of its name and its domain (``s***@example.com``).
The value is normalized first (``security.normalize``), so every spelling shows the same mask."""

from __future__ import annotations

from ecfusion.security.normalize import normalize

KIND_NAMES = {"phone": "phone number", "email": "e-mail", "id_number": "ID number"}
"""How a message names a kind of personal value a user gives (``--phone``, ``--email``, ``--id-number``)."""


def masked(kind: str, value: str) -> str:
    """``value`` (of PII ``kind``) as it may be shown: ``masked("id_number", "11010519491231002x")``
    is ``110***********002X``; a value too short to show any of it is all stars."""
    text = normalize(kind, value)
    if kind == "email" and "@" in text:
        name, _, domain = text.rpartition("@")
        return f"{name[:1]}***@{domain}"
    if len(text) < 8:
        return "*" * len(text)
    return f"{text[:3]}{'*' * (len(text) - 7)}{text[-4:]}"
