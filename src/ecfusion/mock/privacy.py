"""How the mock platforms deliver receiver personal data: masked, or sealed (platforms.md).

Real platforms never hand out receiver names, phones or addresses in plaintext: they return masked
copies (``李**``, ``135****5678``) and ciphertexts that only their audited decrypt API opens. The
mock seals with a reversible encoding its own decrypt endpoint opens — it stands in for the
platform's ciphertext format, it is not protection (the lake encrypts everything it lands).
"""

from __future__ import annotations

import base64


def mask_name(name: str | None) -> str:
    return (name[0] + "*" * (len(name) - 1)) if name else ""


def mask_phone(phone: str | None) -> str:
    return (phone[:3] + "****" + phone[-4:]) if phone and len(phone) >= 7 else ""


def mask_address(address: str | None) -> str:
    return (address[:6] + "****") if address else ""


def seal(text: str | None, fence: str = "~") -> str:
    if not text:
        return ""
    return fence + base64.b64encode(text.encode("utf-8")).decode("ascii") + fence


def unseal(sealed: str, fence: str = "~") -> str | None:
    if not (sealed.startswith(fence) and sealed.endswith(fence)) or len(sealed) < 2 * len(fence):
        return None
    try:
        return base64.b64decode(sealed[len(fence) : -len(fence)]).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
