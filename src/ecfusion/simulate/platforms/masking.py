"""Money units and masked copies as the four platforms write them (shared/platforms.md).

Serves the platform renderers of the simulated merchant (issue 2, Build §3): yuan strings
("200.07"), yuan JSON numbers (200.07) and fen integers (20007); masked names (李**), phones
(138****5678 or 1387677****) and addresses — the copies platforms return beside (or instead of)
personal fields, which masking in 安全 clause 7 must recognise.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def yuan_text(fen: int) -> str:
    # exact: fen / 100 is within half a cent of the true value for any |fen| < 2**50
    return f"{fen / 100:.2f}"


def yuan_number(fen: int) -> float:
    # round-trips exactly through orjson: a two-decimal float prints as its shortest repr
    return round(fen / 100, 2)


def mask_name(name: str) -> str:
    return name[:1] + "*" * max(1, len(name) - 1)


def mask_phone_middle(phone: str) -> str:
    return phone[:3] + "****" + phone[7:]


def mask_phone_tail(phone: str) -> str:
    return phone[:7] + "****"


def mask_detail(detail: str) -> str:
    return detail[:3] + "*" * 6


def opaque(kind: str, value: str, marker: str = "") -> str:
    """A stable ciphertext-looking handle for a value (what a platform's encrypt_* field holds)."""
    digest = hashlib.blake2b(f"{kind}:{value}".encode(), digest_size=24).hexdigest()
    return f"{marker}{digest}{marker}" if marker else digest


def is_plain_time(value: object) -> bool:
    return isinstance(value, str) and bool(_TIME_RE.match(value))


def shift_to_iso(value: str, *, utc: bool) -> str:
    """A ``yyyy-MM-dd HH:mm:ss`` Beijing time rewritten as ISO-8601 in UTC (Z) or with +08:00."""
    dt = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    if utc:
        from datetime import timedelta

        return (dt - timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + "+08:00"
