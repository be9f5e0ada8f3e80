"""Resident identity card numbers (GB 11643-1999): normalization and check-digit validation.

Serves T/JNBDA 0003-2025 5.2 Table 1 L3 a (accuracy: an invalid ID number is flagged,
not matched) and 6.1.3 (an ID number is the strongest exact-match key). The derived
birth date and gender feed completion of member attributes.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_SHAPE_18 = re.compile(r"^\d{17}[\dX]$", re.ASCII)
_SHAPE_15 = re.compile(r"^\d{15}$", re.ASCII)
_STRIP = re.compile(r"[\s\-_]+")


@dataclass(frozen=True, slots=True)
class IdNumber:
    """A valid 18-character ID number and what it encodes."""

    value: str
    region_code: str
    birth_date: dt.date
    gender: str  # "M" or "F" (GB 11643: odd sequence digit = male)


def id_check_char(first17: str) -> str:
    """The GB 11643 (ISO 7064 MOD 11-2) check character for 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def _birth_date(digits8: str) -> dt.date | None:
    try:
        born = dt.date(int(digits8[:4]), int(digits8[4:6]), int(digits8[6:8]))
    except ValueError:
        return None
    return born if 1880 <= born.year <= 2100 else None


def _upgrade_15(value: str) -> str:
    """First-generation 15-digit numbers: insert the century ("19") and add a check char."""
    first17 = value[:6] + "19" + value[6:]
    return first17 + id_check_char(first17)


def normalize_id_number(text: str | None) -> IdNumber | None:
    """Parse an ID number; None unless its shape, birth date and check digit are all valid.

    Accepts full-width digits, lower-case ``x``, spaces and dashes; upgrades the old
    15-digit form to 18 characters.
    """
    if not text:
        return None
    value = _STRIP.sub("", unicodedata.normalize("NFKC", text)).upper()
    if _SHAPE_15.match(value):
        value = _upgrade_15(value)
    if not _SHAPE_18.match(value) or id_check_char(value[:17]) != value[17]:
        return None
    born = _birth_date(value[6:14])
    if born is None:
        return None
    gender = "M" if int(value[16]) % 2 == 1 else "F"
    return IdNumber(value=value, region_code=value[:6], birth_date=born, gender=gender)
