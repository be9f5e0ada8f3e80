"""Normalization of personal values before blind-indexing (T/JNBDA 0003-2025 clauses 6.1.1, 7.4).

Two spellings of the same phone number, ID number, e-mail, name, address or bank card must
give the same blind index, or exact matching across platforms fails without anyone noticing.
Each kind has one normalizer; ``normalize(kind, value)`` dispatches. The rules, one quirk each:

* phone — full-width digits to ASCII; spaces, dashes, dots and brackets dropped; the +86 /
  0086 / 86 country code dropped; a landline keeps its leading 0 trunk prefix.
* id_number — full-width to ASCII, spaces dropped, check letter ``x`` upper-cased.
* email — full-width to ASCII, trimmed, lower-cased.
* name — NFKC, whitespace and interpunct (·, •, ・) dropped, traditional → simplified, case-folded.
* address — NFKC, traditional → simplified, whitespace and punctuation dropped, case-folded.
* bank_card — digits only.

Normalization only serves matching; the ciphertext always holds the value as delivered.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Literal, get_args

import zhconv
import zhconv.zhconv as _zhconv_tables

from ecfusion.errors import InputError

PiiKind = Literal["phone", "id_number", "name", "address", "email", "bank_card"]
PII_KINDS: tuple[str, ...] = get_args(PiiKind)

_NON_DIGITS = re.compile(r"\D+")
_SPACES = re.compile(r"\s+")
_NAME_DOTS = re.compile(r"[\s·•・‧∙.．]+")


def _traditional_chars() -> frozenset[str]:
    table = _zhconv_tables.getdict("zh-cn")
    return frozenset(k for k, v in table.items() if len(k) == 1 and v != k)


_TRADITIONAL = _traditional_chars()


def to_simplified(text: str) -> str:
    """Traditional → simplified Chinese; skips the (slow) converter when nothing is traditional."""
    if not _TRADITIONAL.isdisjoint(text):
        return str(zhconv.convert(text, "zh-cn"))
    return text


def normalize_phone(value: str) -> str:
    if len(value) == 11 and value.isascii() and value.isdigit():
        return value  # the common case, already normal
    digits = _NON_DIGITS.sub("", unicodedata.normalize("NFKC", value))
    if digits.startswith("0086"):
        digits = digits[4:]
        national = True
    elif digits.startswith("86") and len(digits) in (12, 13):
        digits = digits[2:]
        national = True
    else:
        national = False
    # "+86 571 8888 8888" and "0571-88888888" are the same landline: restore the trunk 0.
    if national and digits and not digits.startswith(("1", "0")):
        digits = "0" + digits
    return digits


def normalize_id_number(value: str) -> str:
    return _SPACES.sub("", unicodedata.normalize("NFKC", value)).replace("-", "").upper()


def normalize_email(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().lower()


def normalize_name(value: str) -> str:
    text = _NAME_DOTS.sub("", unicodedata.normalize("NFKC", value))
    return to_simplified(text).casefold()


def _punctuation_table() -> dict[int, None]:
    """Deletion table for str.translate: every BMP punctuation, separator, control and symbol
    character except currency signs and modifier letters (built once, ~65k lookups)."""
    table: dict[int, None] = {}
    for cp in range(0x10000):
        cat = unicodedata.category(chr(cp))
        if cat[0] in "PZ" or cat in ("Cc", "Cf", "Sk", "Sm", "So"):
            table[cp] = None
    return table


_PUNCTUATION = _punctuation_table()


def normalize_address(value: str) -> str:
    text = unicodedata.normalize("NFKC", value).translate(_PUNCTUATION)
    return to_simplified(text).casefold()


def normalize_bank_card(value: str) -> str:
    return _NON_DIGITS.sub("", unicodedata.normalize("NFKC", value))


_NORMALIZERS: dict[str, Callable[[str], str]] = {
    "phone": normalize_phone,
    "id_number": normalize_id_number,
    "email": normalize_email,
    "name": normalize_name,
    "address": normalize_address,
    "bank_card": normalize_bank_card,
}


def check_kind(kind: str) -> str:
    if kind not in _NORMALIZERS:
        raise InputError(f"unknown personal-data kind {kind!r}",
                         hint=f"use one of: {', '.join(PII_KINDS)}")
    return kind


@lru_cache(maxsize=131_072)
def normalize(kind: str, value: str) -> str:
    """The matching form of a personal value of the given kind (see the module docstring)."""
    return _NORMALIZERS[check_kind(kind)](value)
